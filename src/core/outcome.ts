import { AppError } from '../errors.js';
import type { SessionRepository, SessionPatch } from '../store/sessions.js';
import type { RunSummary } from './events.js';

/**
 * Why a session did not complete, as one typed field: computed here once (never read back from an
 * exit code or a message), carried on {@link RunSummary.reason} and mapped to --multi's reasons.
 */
export type RunReason =
  /** The agent failed (exited without a result, or a command in the sandbox failed). */
  | 'agent_failed'
  | 'timed_out'
  | 'over_budget'
  /** Stopped by the run's signal: Ctrl-C, or --multi's fail-fast. */
  | 'killed'
  /** Stopped from outside, on its own (`sandbox kill`). */
  | 'killed_by_user'
  /** The agent completed but its --on-success check failed (its work still lands). */
  | 'check_failed'
  /** The agent's results could not be brought back safely (exit 5); the branch is kept for inspection. */
  | 'results_refused'
  /** The provider is not usable here (no daemon, a rejected key, an outage). */
  | 'provider_unavailable'
  /** The sandbox itself went away under the agent (the provider's diagnosis). */
  | 'sandbox_lost'
  /** Bad input or a missing prerequisite around the run (usage, environment, not found). */
  | 'setup_failed'
  /** A bug in parallel-cc. */
  | 'internal';

/** How a session ended: what the registry row, the summary and the exit code say. */
export interface Outcome {
  status: RunSummary['status'];
  exitCode: number;
  /** Absent when the session completed. */
  reason?: RunReason;
  message?: string;
  hint?: string;
}

/** What {@link settle} decides from. */
export interface SettleInput {
  /** How the agent run ended; 'failed' when a step threw, 'killed' when it was interrupted. */
  ended: RunSummary['status'];
  /** The error the run ended with (thrown, or made from the agent's end). */
  failure?: AppError;
  /** Where the failure came from when its kind alone does not say. */
  origin?: 'provider_check' | 'provider_outage' | 'sandbox_lost' | 'check_failed';
  /** Who stopped the session from outside (`sandbox kill`), and whether its work was collected. */
  killedBy?: { by: string; collect: boolean };
  /** Overrides the derived reason (a session finished from outside knows better, see recover.ts). */
  reason?: RunReason;
  /** Applied to the message (credentials never reach the registry or the summary). */
  redact?: (text: string) => string;
}

const EXIT_BY_STATUS: Record<RunSummary['status'], number> = { completed: 0, failed: 1, timed_out: 4, killed: 130, over_budget: 1 };

/** The reason of a 'failed' session, from where its error came from, else its kind. */
function failedReason(failure: AppError | undefined, origin: SettleInput['origin']): RunReason {
  if (origin === 'provider_check' || origin === 'provider_outage') return 'provider_unavailable';
  if (origin === 'sandbox_lost') return 'sandbox_lost';
  if (origin === 'check_failed') return 'check_failed';
  switch (failure?.kind) {
    case undefined:
    case 'agent':
      return 'agent_failed';
    case 'timeout':
      return 'timed_out';
    case 'results':
      return 'results_refused';
    case 'interrupted':
      return 'killed';
    case 'internal':
      return 'internal';
    case 'usage':
    case 'environment':
    case 'not_found':
      return 'setup_failed';
  }
}

/**
 * The one settle step: status, exit code, reason, message and hint of a session that ended. Refused
 * results fail the session whatever stopped the agent; a kill from outside says who did it.
 */
export function settle(input: SettleInput): Outcome {
  const { failure, killedBy } = input;
  const redact = input.redact ?? ((t: string): string => t);
  const status: Outcome['status'] = failure?.kind === 'results' ? 'failed' : input.ended;
  let reason: RunReason | undefined;
  let message = failure?.message;
  let hint = failure?.hint;
  if (status === 'failed') reason = failedReason(failure, input.origin);
  else if (status === 'killed' && killedBy) {
    reason = 'killed_by_user';
    message = `killed by ${killedBy.by}${killedBy.collect ? '' : ' (its work was not collected: --no-download)'}`;
    hint = undefined;
  } else if (status !== 'completed') reason = status;
  reason = input.reason ?? reason;
  return {
    status,
    exitCode: failure && status === 'failed' ? failure.exitCode : EXIT_BY_STATUS[status],
    ...(reason ? { reason } : {}),
    ...(message !== undefined ? { message: redact(message) } : {}),
    ...(hint ? { hint } : {}),
  };
}

/** The failure of an agent run that ended by itself (failed, over budget, timed out); undefined when it completed or was killed. */
export function agentFailure(
  ended: RunSummary['status'],
  details: { error?: string; hint?: string; limitHits?: string; costUsd: number | null; budgetUsd?: number; budgetReason?: string; timeoutMinutes: number },
): AppError | undefined {
  const { error = 'the agent failed', limitHits } = details;
  if (ended === 'failed') return new AppError('agent', limitHits ? `${limitHits}; ${error}` : error, details.hint ? { hint: details.hint } : {});
  if (ended === 'over_budget' && details.budgetReason !== undefined)
    return new AppError('agent', `the agent was stopped: ${details.budgetReason}; its work so far is kept`, { hint: 'Raise --budget-per-task / --budget, or split the task into smaller ones.' });
  if (ended === 'over_budget')
    return new AppError('agent', `the agent was stopped: its cost ($${(details.costUsd ?? 0).toFixed(4)}) passed the budget of $${String(details.budgetUsd)}; its work so far is kept`, {
      hint: 'Raise --budget-per-task, or split the task into smaller ones.',
    });
  if (ended === 'timed_out') return new AppError('timeout', `the agent was stopped after the ${details.timeoutMinutes}-minute timeout; its work so far is kept`);
  return undefined;
}

/**
 * The one place an outcome is written to the registry: status, completion time, exit code and
 * error, plus what the caller adds (commits, worktree…), which may override the exit code.
 */
export function recordOutcome(sessions: SessionRepository, id: string, outcome: Outcome, now: Date, patch: SessionPatch = {}): void {
  sessions.update(id, { status: outcome.status, completedAt: now.toISOString(), exitCode: outcome.exitCode, error: outcome.message ?? null, reason: outcome.reason ?? null, ...patch });
}

