import { resolve } from 'node:path';
import { AppError } from '../../errors.js';
import { isTerminal, type Session, type SessionStatus } from '../../store/sessions.js';
import type { Context } from '../context.js';
import { roundUsd } from '../pricing.js';
import { withRegistry } from '../registry.js';

/** What `parallel-cc history` is asked for. */
export interface HistoryQuery {
  repo?: string;
  status?: string;
  /** `7d`, `24h`, `90m`, `2w`, or an ISO date. */
  since?: string;
  stats?: boolean;
}

/** One finished session. */
export interface HistoryEntry {
  id: string;
  repo: string;
  status: SessionStatus;
  reason: string | null;
  provider: string;
  agent: string;
  template: string | null;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  /** Model plus sandbox cost, USD. */
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  filesChanged: number | null;
  commits: number | null;
  exitCode: number | null;
  branch: string | null;
  prompt: string | null;
}

/** `history --stats`. */
export interface HistoryStats {
  sessions: number;
  completed: number;
  /** completed / sessions (0 when there are none). */
  successRate: number;
  totalCostUsd: number;
  costPerDay: Array<{ day: string; sessions: number; costUsd: number }>;
  medianDurationMs: number | null;
}

const FINISHED: readonly SessionStatus[] = ['completed', 'failed', 'timed_out', 'killed', 'over_budget'];
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since`: a duration back from now (7d, 24h, 90m, 2w) or a date; the time from which sessions count. */
export function parseSince(raw: string, now: Date): Date {
  const m = /^(\d+)([mhdw])$/.exec(raw);
  if (m) return new Date(now.getTime() - Number(m[1]) * (UNIT_MS[m[2] as string] as number));
  const t = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) throw new AppError('usage', `--since "${raw}" is neither a duration nor a date`, { hint: 'Examples: --since 7d, --since 24h, --since 2026-11-01.' });
  return new Date(t);
}

function entry(s: Session): HistoryEntry {
  const start = s.startedAt ?? s.createdAt;
  const cost = s.costUsd === null && s.sandboxCostUsd === null ? null : roundUsd((s.costUsd ?? 0) + (s.sandboxCostUsd ?? 0));
  return {
    id: s.id,
    repo: s.repoPath,
    status: s.status,
    reason: s.reason,
    provider: s.provider,
    agent: s.agent ?? 'claude',
    template: s.template,
    startedAt: s.startedAt,
    completedAt: s.completedAt,
    durationMs: s.completedAt ? Math.max(0, Date.parse(s.completedAt) - Date.parse(start)) : null,
    costUsd: cost,
    inputTokens: s.inputTokens,
    outputTokens: s.outputTokens,
    filesChanged: s.filesChanged,
    commits: s.commits,
    exitCode: s.exitCode,
    branch: s.branch,
    prompt: s.promptExcerpt,
  };
}

/** The statistics of a list of finished sessions. */
export function historyStats(entries: readonly HistoryEntry[]): HistoryStats {
  const completed = entries.filter((e) => e.status === 'completed').length;
  const days = new Map<string, { sessions: number; costUsd: number }>();
  for (const e of entries) {
    const day = (e.completedAt ?? '').slice(0, 10) || 'unknown';
    const d = days.get(day) ?? { sessions: 0, costUsd: 0 };
    d.sessions++;
    d.costUsd += e.costUsd ?? 0;
    days.set(day, d);
  }
  const durations = entries.map((e) => e.durationMs).filter((d): d is number => d !== null).sort((a, b) => a - b);
  const mid = durations.length / 2;
  const median = durations.length === 0 ? null : durations.length % 2 ? (durations[Math.floor(mid)] as number) : ((durations[mid - 1] as number) + (durations[mid] as number)) / 2;
  return {
    sessions: entries.length,
    completed,
    successRate: entries.length ? completed / entries.length : 0,
    totalCostUsd: roundUsd(entries.reduce((n, e) => n + (e.costUsd ?? 0), 0)),
    costPerDay: [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, d]) => ({ day, sessions: d.sessions, costUsd: roundUsd(d.costUsd) })),
    medianDurationMs: median,
  };
}

/** The history use case (`parallel-cc history`): every finished sandbox session, newest first, from the registry. */
export async function history(q: HistoryQuery, ctx: Context): Promise<{ entries: HistoryEntry[]; stats?: HistoryStats }> {
  if (q.status !== undefined && !FINISHED.includes(q.status as SessionStatus))
    throw new AppError('usage', `--status "${q.status}" is not a finished status`, { hint: `Use one of: ${FINISHED.join(', ')}.` });
  const since = q.since !== undefined ? parseSince(q.since, ctx.now()).toISOString() : undefined;
  const repo = q.repo !== undefined ? resolve(ctx.cwd, q.repo) : undefined;
  const rows = await withRegistry(ctx, (sessions) => sessions.list({ ...(repo ? { repoPath: repo } : {}), kind: 'sandbox', statuses: q.status ? [q.status as SessionStatus] : FINISHED }));
  const entries = rows.filter((s) => isTerminal(s.status) && (!since || (s.completedAt ?? s.createdAt) >= since)).map(entry);
  return { entries, ...(q.stats ? { stats: historyStats(entries) } : {}) };
}
