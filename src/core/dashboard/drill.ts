import type { Context } from '../context.js';
import { killSession, type KillOutput } from '../ops/kill.js';
import { downloadSession, type DownloadOutput } from '../ops/download.js';
import { reattachSession } from '../ops/reattach.js';
import { previewMerge, type MergePreview } from '../ops/conflicts.js';
import { sessionHealth } from '../ops/health.js';
import type { FinishReport } from '../recover.js';
import { AppError } from '../../errors.js';
import { branchDetail, overlaps } from './branch.js';
import type { TailLine } from './digest.js';
import type { LiveDashboard } from './live.js';
import type { DashboardRow } from './model.js';

/** Everything the drill-down of one session shows. */
export interface DrillDown {
  row: DashboardRow;
  tail: TailLine[];
  egress: TailLine[];
  diff: string[];
  diffTruncated: boolean;
  commits: Array<{ sha: string; subject: string }>;
  /** Other sessions' branches that change the same files. */
  overlaps: Array<{ sessionId: string; files: string[] }>;
  worktree: string | null;
  /** Live resource numbers where the provider offers them (`sandbox health`); null otherwise. */
  resources: Record<string, unknown> | null;
}

function rowOf(live: LiveDashboard, id: string): DashboardRow {
  const row = live.model().rows.find((r) => r.id === id);
  if (!row) throw new AppError('not_found', `no session ${id} on the dashboard`, { hint: 'See the ids with `parallel-cc status --all`.' });
  return row;
}

/** The drill-down of one session: its live tail, egress log, diff vs base, commits, overlaps, resources. */
export async function drillDown(live: LiveDashboard, id: string, ctx: Context): Promise<DrillDown> {
  const row = rowOf(live, id);
  const s = live.session(id);
  const d = live.digest(id);
  const detail = s ? await branchDetail(s) : { diff: [], truncated: false, commits: [] };
  let resources: Record<string, unknown> | null = null;
  if (row.state === 'running') {
    // Only where the provider offers stats (health's own answer); a failure here is no drill-down failure.
    resources = await sessionHealth({ sessionId: id }, ctx).then(
      (h): Record<string, unknown> => ({ ...h }),
      () => null,
    );
  }
  return { row, tail: d?.tail.slice(-100) ?? [], egress: d?.egress.slice(-100) ?? [], diff: detail.diff, diffTruncated: detail.truncated, commits: detail.commits, overlaps: overlaps(id, live.diffStats()), worktree: row.worktree, resources };
}

/** The actions of the dashboard: each is the ops use case the CLI and MCP server call, never a copy. */
export const dashboardActions = {
  kill: (ctx: Context, id: string): Promise<KillOutput> => killSession({ sessionId: id }, ctx),
  download: (ctx: Context, id: string, output: string): Promise<DownloadOutput> => downloadSession({ sessionId: id, output }, ctx),
  reattach: (ctx: Context, id: string): Promise<FinishReport> => reattachSession({ sessionId: id }, ctx),
  /** A merge-tree preview against the session's base. */
  mergePreview: (ctx: Context, live: LiveDashboard, id: string): Promise<MergePreview> => previewMerge(ctx, id, live.session(id)?.baseRef ?? undefined),
};
