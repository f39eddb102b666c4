import type { Session } from '../../store/sessions.js';
import type { RunSummary } from '../events.js';
import { roundUsd } from '../pricing.js';
import type { TaskSpec } from './tasks.js';
import type { FailureReason, MultiSummary, TaskResult } from './types.js';

/** One task's result from its session's summary and registry row. */
export function taskResultOf(task: TaskSpec, summary: RunSummary, o: { row: Session | undefined; base: string | undefined; dir: string; reason: FailureReason | undefined }): TaskResult {
  return {
    taskId: task.id,
    sessionId: summary.sessionId,
    status: summary.status,
    exitCode: summary.exitCode,
    base: o.base ?? 'HEAD',
    after: task.after,
    branch: summary.worktree ? summary.branch : null,
    worktree: summary.worktree,
    commits: summary.commits,
    filesChanged: summary.filesChanged,
    durationMs: summary.durationMs,
    // What the task cost in all: the model, plus the sandbox's time where it is billed (E2B).
    costUsd: summary.costUsd === null && summary.sandboxCostUsd === undefined ? null : roundUsd((summary.costUsd ?? 0) + (summary.sandboxCostUsd ?? 0)),
    usage: summary.usage,
    startedAt: o.row?.startedAt ?? null,
    completedAt: o.row?.completedAt ?? null,
    logPath: summary.logPath,
    outputDir: o.dir,
    ...(summary.hooks ? { hooks: summary.hooks } : {}),
    ...(o.reason ? { error: { reason: o.reason, message: summary.error ?? summary.status, ...(summary.hint ? { hint: summary.hint } : {}) } } : {}),
  };
}

/** The batch's summary from its tasks' results: counts, wall and task time, cost, exit code. */
export function batchSummary(
  tasks: TaskResult[],
  o: { groupId: string; repo: string; outputDir: string; startedAt: Date; completedAt: Date; interrupted: boolean; budget?: MultiSummary['budget'] },
): MultiSummary {
  const wallMs = o.completedAt.getTime() - o.startedAt.getTime();
  const taskTimeMs = tasks.reduce((n, t) => n + t.durationMs, 0);
  const costs = tasks.flatMap((t) => (t.costUsd === null ? [] : [t.costUsd]));
  const counts: MultiSummary['counts'] = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return {
    groupId: o.groupId,
    repo: o.repo,
    outputDir: o.outputDir,
    startedAt: o.startedAt.toISOString(),
    completedAt: o.completedAt.toISOString(),
    wallMs,
    taskTimeMs,
    timeSavedMs: taskTimeMs - wallMs,
    totalCostUsd: costs.length ? roundUsd(costs.reduce((a, b) => a + b, 0)) : null,
    counts,
    exitCode: o.interrupted ? 130 : tasks.every((t) => t.status === 'completed') ? 0 : 1,
    interrupted: o.interrupted,
    ...(o.budget ? { budget: o.budget } : {}),
    tasks,
  };
}
