import type { RunSummary } from '../events.js';
import type { RunReason } from '../outcome.js';
import type { Fleet } from '../net/fleet.js';
import type { RunRequest } from '../run-request.js';
import type { MultiRequest } from './run-multi.js';
import type { TaskSpec } from './tasks.js';
import type { FailureReason, MultiSummary } from './types.js';

/** A task's reason from its session's typed one; a kill by the batch's signal is Ctrl-C or --fail-fast. */
const TASK_REASON: Record<RunReason, FailureReason | ((interrupted: boolean) => FailureReason)> = {
  agent_failed: 'agent_failed',
  internal: 'agent_failed',
  timed_out: 'timed_out',
  over_budget: 'over_budget',
  killed: (interrupted) => (interrupted ? 'interrupted' : 'killed_by_fail_fast'),
  killed_by_user: 'killed_by_user',
  results_refused: 'results_failed',
  check_failed: 'check_failed',
  provider_unavailable: 'setup_failed',
  sandbox_lost: 'setup_failed',
  setup_failed: 'setup_failed',
};

/** Why a task's session did not complete, for its metadata.json; undefined when it completed. */
export function failureReason(s: Pick<RunSummary, 'status' | 'reason'>, interrupted: boolean): FailureReason | undefined {
  if (s.status === 'completed') return undefined;
  const r = TASK_REASON[s.reason ?? 'agent_failed'];
  return typeof r === 'function' ? r(interrupted) : r;
}

/** The single run of one task: the batch's settings, the task's prompt and base, its batch and task ids. */
export function taskRequest(req: MultiRequest, task: TaskSpec, t: { root: string; base: string | undefined; signal: AbortSignal; groupId: string; outputDirs: string[] }): RunRequest {
  const { root, base, signal, groupId, outputDirs } = t;
  return {
    repo: root,
    prompt: task.prompt,
    provider: req.provider,
    ...(base !== undefined ? { base } : {}),
    timeoutMinutes: req.timeoutMinutes,
    allowDomains: req.allowDomains,
    keepSandbox: req.keepSandbox,
    ...(req.keepSandboxOnError ? { keepSandboxOnError: true } : {}),
    signal,
    ...(req.authMethod ? { authMethod: req.authMethod } : {}),
    ...(req.skipAgentUpdate ? { skipAgentUpdate: true } : {}),
    ...(req.components?.length ? { components: req.components } : {}),
    ...(req.hooks ? { hooks: req.hooks } : {}),
    ...(req.webhooks?.length ? { webhooks: req.webhooks } : {}),
    ...(req.template ? { template: req.template } : {}),
    ...(req.budgetPerTaskUsd !== undefined ? { budgetUsd: req.budgetPerTaskUsd } : {}),
    groupId,
    taskId: task.id,
    ...(req.workflow ? { workflow: req.workflow } : {}),
    // An output dir inside the repo must not travel into the next task's sandbox.
    excludeDirs: outputDirs,
    ...req.options,
  };
}

/** The batch's --budget as summary.json reports it: the limit, what the batch spent (the broker's exact cost), and whether it stopped the batch. */
export function batchBudget(usd: number, fleet: Fleet): NonNullable<MultiSummary['budget']> {
  const reason = fleet.batchStopped();
  return { usd, spentUsd: fleet.batchCostUsd(), reached: reason !== undefined, ...(reason ? { message: `${reason}: every task was stopped; their work so far is on their branches` } : {}) };
}
