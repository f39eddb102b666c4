import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Agent } from '../../agents/agent.js';
import { locateAgent } from '../agent-select.js';
import type { Config, ProviderName } from '../../config/schema.js';
import { AppError, toAppError } from '../../errors.js';
import type { SandboxProvider } from '../../providers/provider.js';
import type { SessionRepository } from '../../store/sessions.js';
import type { Context } from '../context.js';
import { resolveAgentCredential, type AuthMethod } from '../credentials.js';
import { agentFor } from '../../agents/registry.js';
import type { RunSummary, StreamEvent } from '../events.js';
import { batchSummary, taskResultOf } from './results.js';
import type { Component } from '../components/types.js';
import type { RunHooks } from '../hooks.js';
import { WebhookNotifier, type WebhookConfig } from '../webhooks.js';
import { repoRoot, resolveCommit } from '../git.js';
import { processFleet } from '../fleet-session.js';
import type { Fleet } from '../net/fleet.js';
import { Redactor } from '../redact.js';
import { newSessionId, runSession } from '../run.js';
import type { SessionOptions, WorkflowTag } from '../run-request.js';
import { copyChangedFiles, prepareTaskDir, writeSummary, writeTaskMetadata } from './output.js';
import { schedule, type SkipReason, type TaskStatus } from './scheduler.js';
import { assertAcyclic, type TaskSpec } from './tasks.js';
import { batchBudget, failureReason, taskRequest } from './task-request.js';

export { failureReason };
import type { FailureReason, MultiEvent, MultiSummary, TaskResult, TaskState } from './types.js';

/** A validated --multi request (also the programmatic entry point, e.g. for benchmarks). */
export interface MultiRequest {
  repo: string;
  tasks: TaskSpec[];
  /** At most this many tasks (sandboxes) at once. */
  maxConcurrent: number;
  failFast: boolean;
  /** Absolute folder for summary.md/summary.json and one folder per task. */
  outputDir: string;
  provider: ProviderName;
  timeoutMinutes: number;
  /** Base of tasks that have neither their own base nor a dependency (default: HEAD + working state). */
  base?: string;
  allowDomains: string[];
  /** --working-dir, --git-user/--git-email, --upload-repo: every task's session gets them. */
  options?: SessionOptions;
  keepSandbox: boolean;
  keepSandboxOnError?: boolean;
  authMethod?: AuthMethod;
  skipAgentUpdate?: boolean;
  budgetPerTaskUsd?: number;
  /** --budget: the broker refuses every task's model requests once the batch's cost reaches this. */
  budgetUsd?: number;
  /** Components every task's sandbox gets (resolved once, before any task starts). */
  components?: readonly Component[];
  /** Lifecycle hooks every task runs in its sandbox. */
  hooks?: RunHooks;
  /** Receivers of every task's lifecycle events and of the batch's `batch_finished`. */
  webhooks?: readonly WebhookConfig[];
  /** A saved workflow's run: recorded on every task's row. */
  workflow?: WorkflowTag;
  /** The environment template every task runs in. */
  template?: { name: string; env: Record<string, string> };
}

/** What {@link runMulti} needs: one registry connection and one provider for all tasks. */
export interface MultiDeps {
  ctx: Context;
  config: Config;
  sessions: SessionRepository;
  provider: SandboxProvider;
  /** The agent CLI of every task that names none (`"agent"` in a task file picks another). */
  agent: Agent;
  emit: (e: MultiEvent) => void;
  /** The model API fleet every task joins (default: one of the batch's own, in memory). */
  fleet?: Fleet;
}

const PHASE_STATE: Partial<Record<string, TaskState>> = { worktree: 'initializing', sandbox: 'initializing', upload: 'initializing', running: 'running' };

/** The branch a dependent task starts on: the last dependency (in `after` order) that brought commits. */
function dependencyBranch(task: TaskSpec, done: ReadonlyMap<string, TaskResult>): string | undefined {
  for (const id of [...task.after].reverse()) {
    const r = done.get(id);
    if (r?.branch && r.commits > 0) return r.branch;
  }
  return undefined;
}

/**
 * Runs many tasks, each a full session (own worktree, branch, sandbox, registry row tagged with the
 * group and task id), at most `maxConcurrent` at once, in dependency order, and writes the output
 * folder. Prerequisites are checked once before anything starts. Returns the batch summary; the
 * process exit code is `summary.exitCode`.
 */
export async function runMulti(req: MultiRequest, deps: MultiDeps): Promise<MultiSummary> {
  const { ctx, config, sessions, provider, agent } = deps;
  // Every event of the batch says when it happened (per-task events carry their session's ts).
  const emit = (e: MultiEvent): void => deps.emit(e.type === 'task' ? { ...e, ts: ctx.now().toISOString() } : e);
  assertAcyclic(req.tasks);
  const root = await repoRoot(req.repo);
  if (req.base !== undefined) await resolveCommit(root, req.base);
  // Fail once, before anything starts, on what every task would fail on.
  await provider.checkAvailable();
  const agentOf = (task: TaskSpec): Agent => (task.agent ? agentFor(task.agent) : agent);
  // Every agent of the batch, found and with its key, before anything starts.
  for (const a of new Set(req.tasks.map(agentOf))) {
    locateAgent(a, provider, config, ctx);
    if (req.components?.length && !a.components) {
      throw new AppError('usage', `the ${a.name} agent of a task takes no Claude Code components (--agent, --command, --mcp, --setting, --hook)`, { hint: 'Give those tasks "agent": "claude", or drop the component flags.' });
    }
    if (a.credential) await resolveAgentCredential(a.credential, ctx.env, req.authMethod, ctx.now());
  }
  await mkdir(req.outputDir, { recursive: true });
  const outputDirs = [req.outputDir, await realpath(req.outputDir).catch(() => req.outputDir)];

  const redactor = Redactor.fromEnv(ctx.env);
  // One fleet for the batch: its limits, backoff, exact cost and --budget span every task.
  const fleet = deps.fleet ?? processFleet(config, undefined, req.budgetUsd);
  const groupId = randomBytes(4).toString('hex');
  const startedAt = ctx.now();
  for (const t of req.tasks) emit({ type: 'task', taskId: t.id, state: 'queued', ...(t.after.length ? { detail: `after ${t.after.join(', ')}` } : {}) });

  const finish = async (task: TaskSpec, done: TaskResult, extra: Record<string, unknown> = {}): Promise<TaskResult> => {
    let result = done;
    try {
      await writeTaskMetadata(result.outputDir, result, { prompt: redactor.text(task.prompt), ...extra });
    } catch (e) {
      // Without its metadata the task's output is incomplete: it did not deliver.
      const message = `writing ${join(result.outputDir, 'metadata.json')} failed: ${(e as Error).message}`;
      if (result.status === 'completed') {
        sessions.update(result.sessionId, { status: 'failed', exitCode: 1, error: message });
        result = { ...result, status: 'failed', exitCode: 1, error: { reason: 'download_failed', message, hint: 'Check that the output folder is writable.' } };
      }
    }
    emit({ type: 'task', taskId: task.id, state: result.status, sessionId: result.sessionId, ...(result.error ? { error: result.error.message, ...(result.error.hint ? { hint: result.error.hint } : {}) } : {}), result });
    return result;
  };

  /** A registry row for a task that never ran (skipped) or failed before its session existed. */
  const recordUnstarted = (task: TaskSpec, status: TaskStatus, error: string, base: string | undefined, exitCode: number | null, existing?: string): Omit<TaskResult, 'outputDir'> => {
    const now = ctx.now().toISOString();
    // A session that got as far as its row keeps it: one row per task, always.
    if (existing !== undefined && sessions.exists(existing)) {
      sessions.update(existing, { status, completedAt: now, exitCode, error: redactor.text(error) });
      return { taskId: task.id, sessionId: existing, status, exitCode, base: base ?? 'HEAD', after: task.after, branch: null, worktree: null, commits: 0, filesChanged: [], durationMs: 0, costUsd: null, usage: null, startedAt: null, completedAt: now, logPath: null };
    }
    const id = newSessionId((x) => sessions.exists(x));
    sessions.create({
      id,
      repoPath: root,
      provider: req.provider,
      status,
      baseRef: base ?? 'HEAD',
      promptHash: createHash('sha256').update(task.prompt).digest('hex'),
      promptExcerpt: redactor.text(task.prompt.slice(0, 200)),
      pid: process.pid,
      completedAt: now,
      exitCode,
      error: redactor.text(error),
      groupId,
      taskId: task.id,
      ...(req.workflow ? { workflow: req.workflow.name, ...(req.workflow.attemptOf !== undefined ? { attemptOf: req.workflow.attemptOf } : {}) } : {}),
    });
    return { taskId: task.id, sessionId: id, status, exitCode, base: base ?? 'HEAD', after: task.after, branch: null, worktree: null, commits: 0, filesChanged: [], durationMs: 0, costUsd: null, usage: null, startedAt: null, completedAt: now, logPath: null };
  };

  const runTask = async (task: TaskSpec, done: ReadonlyMap<string, TaskResult>, signal: AbortSignal): Promise<TaskResult> => {
    const dir = await prepareTaskDir(req.outputDir, task.id);
    const base = task.base ?? dependencyBranch(task, done) ?? req.base;
    let state: TaskState = 'queued';
    let sessionId: string | undefined;
    // execution.log is written here rather than by the session: a failure to write it must fail
    // this task's delivery, not break the session mid-run.
    const logFile = join(dir, 'execution.log');
    let logError: string | undefined;
    const log = (line: unknown): void => {
      if (logError !== undefined) return;
      try {
        appendFileSync(logFile, `${JSON.stringify(line)}\n`, { mode: 0o600 });
      } catch (e) {
        logError = (e as Error).message;
      }
    };
    const onEvent = (e: StreamEvent): void => {
      sessionId ??= e.sessionId;
      log(e);
      emit({ type: 'task_event', taskId: task.id, event: e });
      const next = e.type === 'phase' ? PHASE_STATE[e.phase] : undefined;
      if (next && next !== state) {
        state = next;
        emit({ type: 'task', taskId: task.id, state, ...(sessionId ? { sessionId } : {}), detail: e.type === 'phase' ? e.message : '' });
      } else if (e.type === 'tool_use') emit({ type: 'task', taskId: task.id, state: 'running', detail: e.name, ...(sessionId ? { sessionId } : {}) });
    };
    let summary: RunSummary;
    try {
      summary = await runSession(
        taskRequest(req, task, { root, base, signal, groupId, outputDirs }),
        { ctx, config, sessions, provider, agent: agentOf(task), emit: onEvent, fleet },
      );
    } catch (e) {
      // Failed before the session had a registry row (e.g. its base does not resolve): record one.
      const err = toAppError(e);
      log({ ts: ctx.now().toISOString(), type: 'error', error: redactor.text(err.message), hint: err.hint ?? null });
      const row = recordUnstarted(task, 'failed', err.message, base, err.exitCode, sessionId);
      return finish(task, { ...row, outputDir: dir, exitCode: err.exitCode, error: { reason: 'setup_failed', message: redactor.text(err.message), ...(err.hint ? { hint: err.hint } : {}) } });
    }
    const row = sessions.get(summary.sessionId);
    const reason = failureReason(summary, ctx.signal.aborted);
    let result = taskResultOf(task, summary, { row, base, dir, reason });
    let extra: Record<string, unknown> = {};
    let outputError = logError !== undefined ? `writing ${logFile} failed: ${logError}` : undefined;
    if (summary.worktree && summary.filesChanged.length > 0) {
      try {
        const { deleted } = await copyChangedFiles(summary.worktree, summary.filesChanged, dir);
        extra = { deletedFiles: deleted };
      } catch (e) {
        outputError ??= `copying the changed files to ${join(dir, 'changed-files')} failed: ${(e as Error).message}`;
      }
    }
    if (outputError !== undefined) {
      if (result.status === 'completed') {
        // The work is on the branch, but the task's output is incomplete: it did not deliver.
        sessions.update(summary.sessionId, { status: 'failed', exitCode: 1, error: outputError });
        const hint = `${summary.worktree ? `The commits are on ${summary.branch}; c` : 'C'}heck that the output folder is writable.`;
        result = { ...result, status: 'failed', exitCode: 1, error: { reason: 'download_failed', message: outputError, hint } };
      } else extra = { ...extra, outputError };
    }
    return finish(task, result, extra);
  };

  const skip = async (task: TaskSpec, why: SkipReason): Promise<TaskResult> => {
    const [reason, message]: [FailureReason, string] =
      why.kind === 'dependency'
        ? ['dependency_failed', `not started: it runs after "${why.dependency}", which ended ${why.status}`]
        : why.kind === 'fail_fast'
          ? ['cancelled_by_fail_fast', `not started: --fail-fast stopped the batch after task "${why.after}" did not complete`]
          : ['interrupted', 'not started: the batch was interrupted (Ctrl-C)'];
    const dir = await prepareTaskDir(req.outputDir, task.id);
    const row = recordUnstarted(task, 'skipped', message, task.base ?? req.base, null);
    return finish(task, { ...row, outputDir: dir, error: { reason, message } });
  };

  const results = await schedule<TaskResult>({
    tasks: req.tasks,
    maxConcurrent: req.maxConcurrent,
    failFast: req.failFast,
    signal: ctx.signal,
    run: runTask,
    skip,
    crashed: (task, e) => {
      const err = toAppError(e);
      return { ...recordUnstarted(task, 'failed', err.message, task.base ?? req.base, err.exitCode), outputDir: join(req.outputDir, task.id), error: { reason: 'setup_failed', message: err.message, ...(err.hint ? { hint: err.hint } : {}) } };
    },
  });

  const tasks = req.tasks.map((t) => results.get(t.id)).filter((r): r is TaskResult => r !== undefined);
  const summary = batchSummary(tasks, { groupId, repo: root, outputDir: req.outputDir, startedAt, completedAt: ctx.now(), interrupted: ctx.signal.aborted, ...(req.budgetUsd !== undefined ? { budget: batchBudget(req.budgetUsd, fleet) } : {}) });
  const { counts, wallMs } = summary;
  if (!deps.fleet) fleet.close();
  await writeSummary(summary);
  emit({ type: 'multi_summary', summary });
  if (req.webhooks?.length) {
    const batch = new WebhookNotifier(req.webhooks, { logPath: join(req.outputDir, 'webhooks.ndjson'), redact: (v) => Redactor.fromEnv(ctx.env).value(v), now: ctx.now });
    batch.notify('batch_finished', { groupId, repo: root, exitCode: summary.exitCode, counts, totalCostUsd: summary.totalCostUsd, wallMs, tasks: tasks.map((t) => ({ taskId: t.taskId, sessionId: t.sessionId, status: t.status, branch: t.branch })) });
    await batch.drain();
  }
  return summary;
}
