import { resolve } from 'node:path';
import type { Context } from '../../core/context.js';
import { repoRoot } from '../../core/git.js';
import { viewSession, type SessionView } from '../../core/ops/view.js';
import { withRegistry } from '../../core/registry.js';

/** Options of `parallel-cc status`. */
export interface StatusFlags {
  repo?: string;
  sandboxOnly?: boolean;
  all?: boolean;
  json?: boolean;
}

/** Sessions grouped by repository. */
export interface StatusOutput {
  repos: Array<{ repo: string; sessions: SessionView[] }>;
  total: number;
}

/**
 * `parallel-cc status`: the active sessions (and, with --all, ended ones) of every repo or of one,
 * each classified as active / orphaned / stale / ended from its owner pid and heartbeat.
 */
export async function statusCommand(flags: StatusFlags, ctx: Context): Promise<StatusOutput> {
  const repoPath = flags.repo !== undefined ? await repoRoot(resolve(ctx.cwd, flags.repo)) : undefined;
  return withRegistry(ctx, (sessions) => {
    const now = ctx.now();
    const rows = sessions
      .list({
        ...(repoPath ? { repoPath } : {}),
        ...(flags.sandboxOnly ? { kind: 'sandbox' as const } : {}),
        ...(flags.all ? {} : { statuses: ['pending', 'initializing', 'running'] as const }),
      })
      .map((s) => viewSession(s, now));
    const byRepo = new Map<string, SessionView[]>();
    for (const v of rows) byRepo.set(v.repoPath, [...(byRepo.get(v.repoPath) ?? []), v]);
    return { repos: [...byRepo.entries()].map(([repo, list]) => ({ repo, sessions: list })), total: rows.length };
  });
}
