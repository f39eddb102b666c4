import { resolve } from 'node:path';
import type { Context } from '../context.js';
import { classifySession, findSession, viewSession, type SessionView } from './view.js';
import { pidAliveOnce } from '../pid.js';
import { withRegistry } from '../registry.js';
import { homePaths } from '../context.js';
import { readFleetHold } from '../net/fleet-store.js';

/** Which sessions `parallel-cc status` (and MCP `list_sessions`) lists. */
export interface StatusRequest {
  repo?: string;
  sandboxOnly?: boolean;
  all?: boolean;
}

/** Sessions grouped by repository. */
export interface StatusOutput {
  repos: Array<{ repo: string; sessions: SessionView[] }>;
  total: number;
  /** The model API fleet: the machine-wide hold after a 429/529, while it lasts (registry `model_api_hold`). */
  modelApi?: { hold: { reason: string; until: string; resumeInMs: number } };
}

/**
 * The status use case: the active sessions (and, with --all, ended ones) of every repo or of one,
 * each classified as active / orphaned / stale / ended from its owner pid and heartbeat.
 */
export async function listSessions(flags: StatusRequest, ctx: Context): Promise<StatusOutput> {
  // git (and child_process) only when a repo filter needs it: status is run often and should start fast.
  const repoPath = flags.repo !== undefined ? await (await import('../git.js')).repoRoot(resolve(ctx.cwd, flags.repo)) : undefined;
  const hold = await readFleetHold(homePaths(ctx.home).db, ctx.now().getTime());
  const modelApi = hold ? { modelApi: { hold: { reason: hold.reason, until: new Date(hold.until).toISOString(), resumeInMs: hold.resumeInMs } } } : {};
  return withRegistry(ctx, (sessions) => {
    const now = ctx.now();
    // Many rows share an owner pid: ask the kernel once per pid.
    const alive = pidAliveOnce();
    const rows = sessions
      .list({
        ...(repoPath ? { repoPath } : {}),
        ...(flags.sandboxOnly ? { kind: 'sandbox' as const } : {}),
        ...(flags.all ? {} : { statuses: ['pending', 'initializing', 'running'] as const }),
      })
      .map((s): SessionView => Object.assign(s, classifySession(s, now, { alive }))); // rows are ours: no copy
    const byRepo = new Map<string, SessionView[]>();
    for (const v of rows) byRepo.set(v.repoPath, [...(byRepo.get(v.repoPath) ?? []), v]);
    return { repos: [...byRepo.entries()].map(([repo, list]) => ({ repo, sessions: list })), total: rows.length, ...modelApi };
  });
}

/** One session as an observer sees it now (MCP `sandbox_status`). */
export async function sessionStatus(ctx: Context, sessionId: string): Promise<SessionView> {
  return withRegistry(ctx, (sessions) => viewSession(findSession(sessions, sessionId), ctx.now()));
}
