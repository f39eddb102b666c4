import type { Context } from '../../core/context.js';
import { MAX_SKEW_SECONDS, startTriggerServer } from '../../core/workflows/serve.js';
import { claimDelivery, loadWorkflow, workflowSecret } from '../../core/workflows/store.js';
import { AppError, toAppError } from '../../errors.js';
import { Renderer } from '../render.js';
import { runWorkflow } from './workflow.js';

/** The port of `workflow serve` without --port. */
export const DEFAULT_TRIGGER_PORT = 8787;

/**
 * `workflow serve [--port N]`: the trigger server until Ctrl-C/SIGTERM, then waits for the runs it
 * started (they stop with the same signal and save their work). Runs print on stderr: stdout is
 * the server's own data.
 */
export async function serveWorkflows(flags: { port?: string; json?: boolean }, ctx: Context): Promise<number> {
  const renderer = new Renderer({ json: flags.json === true, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env });
  const running = new Set<Promise<unknown>>();
  try {
    const port = flags.port === undefined ? DEFAULT_TRIGGER_PORT : /^\d{1,5}$/.test(flags.port) && Number(flags.port) <= 65535 ? Number(flags.port) : NaN;
    if (Number.isNaN(port)) throw new AppError('usage', `--port must be 0 to 65535, got "${flags.port}"`);
    const places = { home: ctx.home, cwd: ctx.cwd };
    const runCtx: Context = { ...ctx, stdout: ctx.stderr };
    const server = await startTriggerServer(port, {
      now: ctx.now,
      claimDelivery: (delivery) => claimDelivery(ctx.home, delivery, ctx.now(), 2 * MAX_SKEW_SECONDS * 1000),
      log: (line) => renderer.note(`workflow serve: ${line}`),
      secretOf: async (name) => {
        const found = await loadWorkflow(name, places).then(() => true, () => false);
        return found ? workflowSecret(name, ctx.home) : undefined;
      },
      trigger: (name) =>
        new Promise((resolve) => {
          let answered = false;
          const run = runWorkflow(name, {}, runCtx, (id) => {
            if (answered) return;
            answered = true;
            resolve({ sessionIds: [id] });
          }).then((r) => {
            if (!answered) resolve({ sessionIds: r.result?.sessionIds ?? [], exitCode: r.code });
            answered = true;
          });
          running.add(run);
          void run.finally(() => running.delete(run));
        }),
    }).catch((e: unknown) => {
      throw new AppError('environment', `cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`, { hint: 'Pick another --port (0 takes a free one).' });
    });
    const url = `http://127.0.0.1:${server.port}`;
    renderer.data({ type: 'listening', port: server.port, url }, () => [`Listening on ${url} (POST /workflows/<name>); Ctrl-C stops`]);
    await new Promise<void>((resolve) => (ctx.signal.aborted ? resolve() : ctx.signal.addEventListener('abort', () => resolve(), { once: true })));
    await server.close();
    await Promise.all([...running]);
    return 0;
  } catch (e) {
    const err = toAppError(e);
    renderer.error(err);
    return err.exitCode;
  }
}
