import { access } from 'node:fs/promises';
import { sandboxCost, type SandboxHandle, type SandboxProvider } from '../providers/provider.js';
import type { Session, SessionRepository, SessionStatus } from '../store/sessions.js';
import { AppError, toAppError } from '../errors.js';
export { pidAlive } from './pid.js';
import { git, gitIdentity } from './git.js';
import { collectSandboxResults } from './sandbox-repo.js';
import { importResults } from './sync/results.js';
import { removeSessionWorktree, SNAPSHOT_MESSAGE } from './worktree.js';
import { removeSandboxDir, sandboxDirOf } from './sandbox-dir.js';
import type { RunSummary } from './events.js';
import { recordOutcome, settle, type RunReason } from './outcome.js';
import { destroySandbox } from './run-teardown.js';

/** What {@link finishSession} did. */
export interface FinishReport {
  sessionId: string;
  status: SessionStatus;
  /** Commits brought onto the branch now (in addition to any imported before). */
  commits: number;
  files: string[];
  worktreeKept: boolean;
  sandboxDestroyed: boolean;
  /** Why it did not complete (the settle step's typed reason). */
  reason?: RunReason;
  error?: string;
  /** What the user must know: a billed sandbox that could not be destroyed. */
  warnings?: string[];
}

/** The commit the agent started from on a session branch: the working-state snapshot, else the base. */
export async function agentStartCommit(s: Session): Promise<string> {
  const base = s.baseCommit as string;
  const first = await git(s.repoPath, ['rev-list', '--reverse', '--format=%H %s', '--no-commit-header', `${base}..refs/heads/${s.branch ?? ''}`]).catch(() => '');
  const [line] = first.split('\n');
  return line?.endsWith(SNAPSHOT_MESSAGE) ? line.slice(0, 40) : base;
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * Finishes a session whose owning CLI is gone (or is being killed from outside): reconnects to its
 * sandbox where the provider can, brings the agent's work onto the session branch exactly like a
 * normal run (collect inside the sandbox, apply in a quarantine and judge the trees), destroys the sandbox, removes a
 * worktree that holds nothing new, and records the final status. Work is never dropped: when the
 * results cannot be applied the worktree stays and the error says where the patch series is.
 */
export async function finishSession(
  session: Session,
  deps: { sessions: SessionRepository; provider: SandboxProvider | undefined; now: () => Date },
  opts: { status: RunSummary['status']; reason: string; handle?: SandboxHandle; /** false: destroy without bringing results back. */ collect?: boolean },
): Promise<FinishReport> {
  const { sessions, provider } = deps;
  let commits = 0;
  let files: string[] = [];
  let error: string | undefined = opts.reason || undefined;
  let sandboxDestroyed = false;
  let refused = false;
  let warning: string | undefined;
  let handle = opts.handle;
  const sandboxDir = sandboxDirOf(session);
  if (!handle && provider?.reconnect && session.sandboxId) {
    let why = 'the provider no longer finds it';
    handle = await provider.reconnect(session.sandboxId, { sessionId: session.id, ...(sandboxDir ? { sandboxDir } : {}) }).catch((e: unknown) => {
      why = toAppError(e).message;
      return undefined;
    });
    // Say what was lost: a cloud sandbox that is gone took the agent's uncollected work with it;
    // the provider's diagnosis (by id) says why it is gone where it can tell.
    if (!handle && session.sandboxStart && !provider.capabilities.localFilesystem) {
      const byId: SandboxHandle = { id: session.sandboxId, provider: provider.name, workdir: '', homedir: '', agentPath: '', endpoints: {} };
      const down = await provider.diagnose?.(byId).catch(() => undefined);
      error = `${opts.reason ? `${opts.reason}; ` : ''}${down?.message ?? `its ${session.provider} sandbox ${session.sandboxId} is gone (${why})`}: the agent's work in it since the last import was not recovered`;
    }
  }
  const worktree = session.worktreePath && (await exists(session.worktreePath)) ? session.worktreePath : undefined;
  if (handle && provider) {
    try {
      if (opts.collect !== false && worktree && session.sandboxStart && session.sessionDir) {
        const identity = await gitIdentity(session.repoPath);
        const mbox = await collectSandboxResults(provider, handle, { startCommit: session.sandboxStart, identity });
        // The CLI may have died half-way through importing: start the branch over from where the
        // agent started and apply the whole series again (the sandbox still has all of it).
        await git(worktree, ['am', '--abort']).catch(() => undefined);
        await git(worktree, ['reset', '--quiet', '--hard', await agentStartCommit(session)]);
        const imported = await importResults({ worktreePath: worktree, sessionDir: session.sessionDir, mbox, identity });
        commits = imported.commits;
        files = imported.files;
      }
    } catch (e) {
      error = `${opts.reason ? `${opts.reason}; ` : ''}results not applied: ${toAppError(e).message}`;
      refused = true;
    } finally {
      warning = await destroySandbox(provider, handle);
      sandboxDestroyed = true;
    }
  }
  // Whatever is left of its folder (sockets of a dead CLI, a sandbox never created) goes too.
  if (session.sandboxDir) await removeSandboxDir(session.sandboxDir).catch(() => undefined);
  let worktreeKept = worktree !== undefined;
  let branchCommits: number | undefined;
  if (worktree && session.branch && session.baseCommit) {
    // Nothing beyond the start (base or working-state snapshot) on the branch: remove it, like a run does.
    const ahead = await git(session.repoPath, ['rev-list', '--count', `${session.baseCommit}..refs/heads/${session.branch}`]).catch(() => '');
    const snapshotOnly = await git(session.repoPath, ['log', '--format=%s', `${session.baseCommit}..refs/heads/${session.branch}`]).catch(() => '');
    const onlySnapshot = ahead === '0' || (ahead === '1' && snapshotOnly.trim() === SNAPSHOT_MESSAGE);
    branchCommits = ahead === '' ? undefined : Number(ahead);
    if (onlySnapshot && commits === 0 && !refused) {
      const tip = await git(session.repoPath, ['rev-parse', `refs/heads/${session.branch}`]).catch(() => undefined);
      worktreeKept = !(await removeSessionWorktree(session.repoPath, worktree, session.branch, tip));
    }
  }
  // As in a run: the commits `git log base..branch` lists (the agent's plus the working-state snapshot).
  const total = branchCommits !== undefined ? (worktreeKept ? branchCommits : 0) : (session.commits ?? 0) + commits;
  // A sandbox billed by time cost what it cost until now (it was destroyed just above).
  const pricing = provider?.capabilities.pricing;
  const sandboxCostUsd = pricing && session.sandboxCreatedAt ? sandboxCost(pricing, (deps.now().getTime() - Date.parse(session.sandboxCreatedAt)) / 1000) : undefined;
  // The status is the caller's (it knows how the session ended); a session ended from outside was
  // killed by a user, and results that could not be applied say so whatever the status.
  const reason: RunReason | undefined = refused ? 'results_refused' : opts.status === 'killed' ? 'killed_by_user' : undefined;
  const outcome = settle({ ended: opts.status, ...(error ? { failure: new AppError(refused ? 'results' : 'agent', error) } : {}), ...(reason ? { reason } : {}) });
  // The exit code stays the agent's as recorded (its CLI, which had the process, is gone).
  recordOutcome(sessions, session.id, outcome, deps.now(), {
    exitCode: session.exitCode,
    cleanedAt: deps.now().toISOString(),
    commits: total,
    filesChanged: (session.filesChanged ?? 0) + files.length,
    ...(sandboxCostUsd !== undefined ? { sandboxCostUsd } : {}),
    ...(worktreeKept ? {} : { worktreePath: null, branch: null }),
  });
  return { sessionId: session.id, status: opts.status, commits, files, worktreeKept, sandboxDestroyed, ...(outcome.reason ? { reason: outcome.reason } : {}), ...(error ? { error } : {}), ...(warning ? { warnings: [warning] } : {}) };
}
