#!/usr/bin/env node
import { main } from './cli/program.js';
import { signalPlan } from './cli/signals.js';
import { processContext } from './core/context.js';
import { SessionGuard } from './core/crash-guard.js';

// The only place that touches process-global state: it builds the context the rest receives.
const controller = new AbortController();
const argv = process.argv.slice(2);
// The first signal's message and effect depend on the command: only a run saves work before it stops.
const plan = signalPlan(argv);
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  interrupts += 1;
  if (interrupts === 1) {
    // Abort first: live output (spinner, --multi block) steps aside before the notice is printed.
    if (plan.graceful) controller.abort();
    process.stderr.write(`\n${plan.message(signal)}\n`);
    if (plan.graceful) return;
  }
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// A bug that throws where nobody catches it must not leave sandboxes running unobserved: record it
// on every session of this process, stop their sandboxes, exit 70 (EXIT_CODES.internal).
const guard = new SessionGuard();
let crashed: Promise<void> | undefined;
const onCrash = (err: unknown): void => {
  if (crashed) return;
  const message = err instanceof Error ? err.message : String(err);
  const ids = guard.ids();
  process.stderr.write(
    `\nparallel-cc: internal error: ${message}\n` +
      `parallel-cc: this is a bug in parallel-cc; ${ids.length ? `stopping the sandboxes of session(s) ${ids.join(', ')} (recorded as failed)` : 'no session was running'}.\n` +
      'Re-run with PARALLEL_CC_LOG_LEVEL=debug and report the output.\n',
  );
  if (process.env.PARALLEL_CC_LOG_LEVEL === 'debug' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  crashed = guard.crash(err, () => process.exit(70));
};
process.on('uncaughtException', onCrash);
process.on('unhandledRejection', onCrash);
// Test-only (test/security/crash-guard.test.ts): SIGUSR2 makes the process fail asynchronously,
// as a bug would, so the guard is proven against a real run. Inert unless the variable is set.
const testCrash = process.env.PARALLEL_CC_TEST_CRASH_ON_SIGUSR2;
if (testCrash === 'exception' || testCrash === 'rejection') {
  process.on('SIGUSR2', () => {
    const err = new Error('test crash (PARALLEL_CC_TEST_CRASH_ON_SIGUSR2)');
    if (testCrash === 'rejection') void Promise.reject(err);
    else setImmediate(() => {
      throw err;
    });
  });
}

const code = await main(argv, { ...processContext(controller.signal), guard });
// A crash mid-run ends the process from its handler (exit 70), never with the run's own code.
if (crashed) await crashed;
process.exitCode = code;
// Flush stdout/stderr before leaving; a pending pipe write must not be cut off.
process.stdout.write('', () => process.exit(code));
