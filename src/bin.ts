#!/usr/bin/env node
import { main } from './cli/program.js';
import { signalPlan } from './cli/signals.js';
import { processContext } from './core/context.js';

// The only place that touches process-global state: it builds the context the rest receives.
const controller = new AbortController();
const argv = process.argv.slice(2);
// The first signal's message and effect depend on the command: only a run saves work before it stops.
const plan = signalPlan(argv);
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  interrupts += 1;
  if (interrupts === 1) {
    process.stderr.write(`\n${plan.message(signal)}\n`);
    if (plan.graceful) {
      controller.abort();
      return;
    }
  }
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await main(argv, processContext(controller.signal));
process.exitCode = code;
// Flush stdout/stderr before leaving; a pending pipe write must not be cut off.
process.stdout.write('', () => process.exit(code));
