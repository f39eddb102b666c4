import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../../core/context.js';
import type { RunSummary } from '../../core/events.js';
import { applySets, parseDefinition, type RetryPolicy, type WorkflowDefinition } from '../../core/workflows/definition.js';
import { withRetries } from '../../core/workflows/retry.js';
import { checkName, loadWorkflow, saveWorkflow, type StoredWorkflow, type WorkflowScope } from '../../core/workflows/store.js';
import { AppError, toAppError } from '../../errors.js';
import { heartbeatMs, Renderer } from '../render.js';
import type { MultiFlags } from './multi.js';

/** `workflow create` options of its own (the rest are `sandbox run` flags). */
export interface CreateFlags {
  retries?: string;
  retryDelay?: string;
  retryBackoff?: string;
  scope?: string;
  force?: boolean;
  description?: string;
  json?: boolean;
}

const number = (flag: string, raw: string | undefined, ok: (n: number) => boolean, example: string): number | undefined => {
  if (raw === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!ok(n)) throw new AppError('usage', `${flag} got "${raw}"`, { hint: `Example: ${flag} ${example}` });
  return n;
};

/** The retry policy of `--retries N [--retry-delay S] [--retry-backoff F]`. */
export function retryPolicy(flags: CreateFlags): RetryPolicy | undefined {
  const max = number('--retries', flags.retries, (n) => Number.isInteger(n) && n >= 0 && n <= 10, '3 (0 to 10)');
  const delay = number('--retry-delay', flags.retryDelay, (n) => n >= 0 && n <= 3600, '5 (seconds)');
  const backoff = number('--retry-backoff', flags.retryBackoff, (n) => n >= 1 && n <= 10, '2');
  if (max === undefined) {
    if (delay !== undefined || backoff !== undefined) throw new AppError('usage', '--retry-delay/--retry-backoff need --retries', { hint: 'Example: --retries 3 --retry-delay 5' });
    return undefined;
  }
  return { max, delay: delay ?? 5, backoff: backoff ?? 2 };
}

/**
 * `workflow create <name> [run flags]`: the flags the user typed (only those) become the saved
 * definition. A user workflow remembers the folder it was made in, so relative paths mean what
 * they meant; a repository's workflow resolves them against the repository root.
 */
export async function createWorkflow(name: string, runFlags: Record<string, unknown>, flags: CreateFlags, ctx: Context): Promise<{ name: string; file: string; scope: WorkflowScope; definition: WorkflowDefinition }> {
  checkName(name);
  if (flags.scope !== undefined && flags.scope !== 'user' && flags.scope !== 'repo') throw new AppError('usage', `--scope must be user or repo, got "${flags.scope}"`);
  const scope: WorkflowScope = flags.scope === 'repo' ? 'repo' : 'user';
  const retry = retryPolicy(flags);
  const definition = parseDefinition(
    {
      version: 1,
      name,
      ...(flags.description !== undefined ? { description: flags.description } : {}),
      ...(scope === 'user' ? { cwd: ctx.cwd } : {}),
      run: runFlags,
      ...(retry ? { retry } : {}),
    },
    `"${name}"`,
  );
  const file = await saveWorkflow(definition, scope, { home: ctx.home, cwd: ctx.cwd }, flags.force === true);
  return { name, file, scope, definition };
}

/** What a workflow run reports after its last attempt. */
export interface WorkflowRunResult {
  type: 'workflow';
  workflow: string;
  status: RunSummary['status'] | 'batch';
  exitCode: number;
  attempts: number;
  sessionIds: string[];
}

/** Options of `workflow run`. */
export interface RunWorkflowFlags {
  set?: string[];
  json?: boolean;
}

/**
 * `workflow run <name> [--set key=value]`: the saved flags go through exactly the code of
 * `sandbox run` (single or `--multi`), tagged with the workflow's name; a single run is attempted
 * again on transient failures as its retry policy says, each attempt its own row linked to the
 * first. `onStarted` hears of each session as soon as it exists (`workflow serve` answers with it).
 */
export async function runWorkflow(name: string, flags: RunWorkflowFlags, ctx: Context, onStarted?: (sessionId: string) => void): Promise<{ code: number; result?: WorkflowRunResult }> {
  const renderer = new Renderer({ json: flags.json === true, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, progress: { heartbeatMs: heartbeatMs(ctx.env), signal: ctx.signal } });
  let stored: StoredWorkflow;
  let def: WorkflowDefinition;
  try {
    stored = await loadWorkflow(name, { home: ctx.home, cwd: ctx.cwd });
    def = applySets(stored.definition, flags.set ?? []);
  } catch (e) {
    const err = toAppError(e);
    renderer.error(err);
    renderer.close();
    return { code: err.exitCode };
  }
  const runFlags = { ...def.run, ...(def.cleanupOnError === false ? { keepOnError: true } : {}), ...(flags.json ? { json: true } : {}) } as MultiFlags;
  // Relative paths of the saved flags mean what they meant where the workflow was made.
  const runCtx: Context = { ...ctx, cwd: stored.cwd };
  const [{ multiAction, rejectMultiOnlyFlags }, { runCommand }] = await Promise.all([import('./multi.js'), import('./run.js')]);
  if (runFlags.multi) {
    renderer.close();
    return { code: await multiAction(runFlags, runCtx, { name }) };
  }
  const stream = runFlags.stream !== false;
  const seen = new Set<string>();
  try {
    rejectMultiOnlyFlags(runFlags);
    if (runFlags.dryRun) {
      const out = await runCommand(runFlags, runCtx, (e) => renderer.event(e, { stream }));
      if (out.kind === 'plan') renderer.plan(out.plan);
      return { code: 0 };
    }
    const { attempts } = await withRetries(def.retry, {
      signal: ctx.signal,
      attempt: async (_n, firstId) => {
        const out = await runCommand(runFlags, runCtx, (e) => {
          if (e.sessionId !== undefined && !seen.has(e.sessionId)) {
            seen.add(e.sessionId);
            onStarted?.(e.sessionId);
          }
          renderer.event(e, { stream });
        }, { name, ...(firstId !== undefined ? { attemptOf: firstId } : {}) });
        if (out.kind !== 'run') throw new AppError('internal', 'a workflow attempt returned a plan');
        return out.summary;
      },
      retrying: (next, after, wait) => renderer.note(`workflow ${name}: attempt ${next - 1} failed (${after.reason ?? after.status}): attempt ${next} of ${(def.retry?.max ?? 0) + 1} in ${wait}s`),
      sleep: (seconds) => sleep(seconds * 1000, undefined, { signal: ctx.signal }).catch(() => undefined),
    });
    const last = attempts[attempts.length - 1] as RunSummary;
    const result: WorkflowRunResult = { type: 'workflow', workflow: name, status: last.status, exitCode: last.exitCode, attempts: attempts.length, sessionIds: attempts.map((a) => a.sessionId) };
    if (flags.json) renderer.jsonLine(JSON.stringify(result));
    else renderer.line(`Workflow  ${name} ${last.status.toUpperCase()} after ${attempts.length} attempt${attempts.length === 1 ? '' : 's'}${attempts.length > 1 ? ` (sessions ${result.sessionIds.join(', ')})` : ''}`);
    return { code: last.exitCode, result };
  } catch (e) {
    const err = toAppError(e);
    renderer.error(err);
    return { code: err.exitCode };
  } finally {
    renderer.close();
  }
}
