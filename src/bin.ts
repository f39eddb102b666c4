#!/usr/bin/env node
import { main } from './cli/program.js';
import { processContext } from './core/context.js';

// The only place that touches process-global state: it builds the context the rest receives.
const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  interrupts += 1;
  if (interrupts === 1) {
    // Abort first: live output (spinner, --multi block) steps aside before the notice is printed.
    controller.abort();
    process.stderr.write(`\nparallel-cc: ${signal} received, stopping the sandbox and saving the work so far (press Ctrl-C again to quit at once)\n`);
    return;
  }
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await main(process.argv.slice(2), processContext(controller.signal));
process.exitCode = code;
// Flush stdout/stderr before leaving; a pending pipe write must not be cut off.
process.stdout.write('', () => process.exit(code));
