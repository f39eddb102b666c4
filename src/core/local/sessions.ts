import { procStat } from '../pid.js';
import { join } from 'node:path';
import { homePaths, type Context } from '../context.js';
import { git, gitIdentity, repoRoot, resolveCommit } from '../git.js';
import { viewSession } from '../ops/view.js';
import { newSessionId } from '../run.js';
import { createSessionWorktree, removeSessionWorktree } from '../worktree.js';
import type { Session, SessionRepository } from '../../store/sessions.js';

/** Where a local (interactive) session works. */
export interface LocalClaim {
  sessionId: string;
  repo: string;
  /** 'main': the repository's own checkout; 'worktree': a fresh worktree on its own branch. */
  mode: 'main' | 'worktree';
  path: string;
  branch: string | null;
}

/** True when a local session still holds its place (owner alive, heartbeat recent enough). */
export function localSessionActive(s: Session, now: Date, staleMinutes?: number): boolean {
  return viewSession(s, now, staleMinutes === undefined ? {} : { staleMinutes }).liveness === 'active';
}

/**
 * Registers a local session for `pid` in a repo. The first active session gets the repository's own
 * checkout; any later concurrent one gets a new worktree + branch `parallel-cc/<id>` from HEAD. The
 * decision is made inside one BEGIN IMMEDIATE transaction, so two wrappers started in the same
 * instant never both get the main checkout; stale sessions (owner gone, no heartbeat) are released
 * on the way.
 */
export async function registerLocal(sessions: SessionRepository, ctx: Context, repoPath: string, pid: number, staleMinutes?: number): Promise<LocalClaim> {
  const repo = await repoRoot(repoPath);
  const base = await resolveCommit(repo, 'HEAD').catch(() => null);
  const now = ctx.now();
  const claim = sessions.exclusive((): LocalClaim => {
    const active: Session[] = [];
    for (const s of sessions.list({ repoPath: repo, kind: 'local', statuses: ['running'] })) {
      if (localSessionActive(s, now, staleMinutes)) active.push(s);
      else sessions.update(s.id, { status: 'completed', completedAt: now.toISOString(), error: 'released: stale (owner gone or silent)' });
    }
    const id = newSessionId((x) => sessions.exists(x));
    const mainTaken = active.some((s) => s.worktreePath === null);
    const branch = mainTaken ? `parallel-cc/${id}` : null;
    const path = mainTaken ? join(homePaths(ctx.home).worktrees, `${repo.split('/').pop() ?? 'repo'}-${id}`) : repo;
    sessions.create({
      id,
      kind: 'local',
      repoPath: repo,
      provider: 'local',
      status: 'running',
      pid,
      baseRef: 'HEAD',
      baseCommit: base,
      branch,
      worktreePath: mainTaken ? path : null,
      startedAt: now.toISOString(),
      heartbeatAt: now.toISOString(),
    });
    return { sessionId: id, repo, mode: mainTaken ? 'worktree' : 'main', path, branch };
  });
  if (claim.mode === 'worktree' && claim.branch && base) {
    try {
      await createSessionWorktree({ repoRoot: repo, baseCommit: base, branch: claim.branch, path: claim.path, includeWorkingState: false, identity: await gitIdentity(repo) });
    } catch (e) {
      sessions.update(claim.sessionId, { status: 'failed', completedAt: ctx.now().toISOString(), error: (e as Error).message, worktreePath: null });
      throw e;
    }
  }
  return claim;
}

/** The parent pid of a process (a hook runs as claude's child; the wrapper is claude's parent). */
function parentOf(pid: number): number | undefined {
  const ppid = procStat(pid)?.[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** The running local session owned by `pid`, or by its parent or grandparent (hooks run below claude). */
export function findLocalByPid(sessions: SessionRepository, pid: number): Session | undefined {
  const running = sessions.list({ kind: 'local', statuses: ['running'] });
  let p: number | undefined = pid;
  for (let depth = 0; depth < 3 && p; depth++) {
    const hit = running.find((s) => s.pid === p);
    if (hit) return hit;
    p = parentOf(p);
  }
  return undefined;
}

/** What release did with the session's worktree. */
export interface ReleaseReport {
  sessionId: string;
  worktree: string | null;
  kept: boolean;
  reason: string;
}

/**
 * Releases a local session: a worktree with no changes (clean, no commits beyond its base) is removed
 * with its branch; one with changes is kept and reported.
 */
export async function releaseLocal(sessions: SessionRepository, s: Session, now: Date): Promise<ReleaseReport> {
  let kept = false;
  let reason = 'main checkout';
  if (s.worktreePath && s.branch) {
    const dirty = await git(s.worktreePath, ['status', '--porcelain']).catch(() => '');
    const ahead = s.baseCommit ? await git(s.repoPath, ['rev-list', '--count', `${s.baseCommit}..refs/heads/${s.branch}`]).catch(() => '0') : '0';
    kept = dirty !== '' || ahead !== '0';
    reason = kept ? (dirty !== '' ? 'has uncommitted changes' : `has ${ahead} commit(s)`) : 'no changes';
    if (!kept) await removeSessionWorktree(s.repoPath, s.worktreePath, s.branch, s.baseCommit ?? undefined);
  }
  sessions.update(s.id, { status: 'completed', completedAt: now.toISOString(), ...(kept ? {} : { worktreePath: null, branch: s.worktreePath ? null : s.branch }) });
  return { sessionId: s.id, worktree: s.worktreePath, kept, reason };
}

/** Records a heartbeat; false when `pid` owns no running local session. */
export function heartbeatLocal(sessions: SessionRepository, pid: number, now: Date): Session | undefined {
  const s = findLocalByPid(sessions, pid);
  if (!s) return undefined;
  return sessions.update(s.id, { heartbeatAt: now.toISOString() });
}

