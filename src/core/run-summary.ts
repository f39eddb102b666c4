import type { RunSummary } from './events.js';
import type { HookResult } from './hooks.js';
import type { Outcome } from './outcome.js';

/** What a run knows when it ends, besides its settled outcome: the summary's own facts. */
export type RunFacts = Omit<RunSummary, 'status' | 'exitCode' | 'reason' | 'error' | 'hint' | 'hooks'> & { hooks: readonly HookResult[] };

/** The run's summary (the `--json` summary object): its facts and its outcome. */
export function runSummary(outcome: Outcome, f: RunFacts): RunSummary {
  return {
    sessionId: f.sessionId,
    status: outcome.status,
    exitCode: outcome.exitCode,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    repo: f.repo,
    branch: f.branch,
    worktree: f.worktree,
    baseCommit: f.baseCommit,
    commits: f.commits,
    filesChanged: f.filesChanged,
    costUsd: f.costUsd,
    ...(f.sandboxCostUsd !== undefined ? { sandboxCostUsd: f.sandboxCostUsd } : {}),
    usage: f.usage,
    durationMs: f.durationMs,
    logPath: f.logPath,
    egressDenied: f.egressDenied,
    ...(f.hooks.length ? { hooks: [...f.hooks] } : {}),
    ...(f.killedBy ? { killedBy: f.killedBy } : {}),
    ...(outcome.message !== undefined ? { error: outcome.message } : {}),
    ...(outcome.hint ? { hint: outcome.hint } : {}),
  };
}
