import { isTerminal, type Session } from '../../store/sessions.js';
import { classifySession, type ViewOptions } from '../ops/view.js';
import { emptyDigest, safeText, type SessionDigest } from './digest.js';

/** What a row's state column says: the registry's status, or what an observer knows better. */
export type RowState = Session['status'] | 'orphaned' | 'stale';

/** Why a session is in the attention lane. */
export type AttentionReason = 'failed' | 'timed_out' | 'over_budget' | 'results_refused' | 'idle' | 'orphaned';

/** The branch's diff against its base, once the session ended (`git diff --numstat`). */
export interface DiffStat {
  files: number;
  added: number;
  removed: number;
  paths: string[];
}

/** One row per session. */
export interface DashboardRow {
  id: string;
  taskId: string | null;
  groupId: string | null;
  agent: string;
  model: string | null;
  provider: string;
  /** `running` only while the owner process lives; `orphaned — cleanup or reattach` otherwise. */
  state: RowState;
  status: Session['status'];
  /** Why it is orphaned/stale, when it is. */
  stateNote: string | null;
  /** How long it has been in its state. */
  inStateMs: number;
  step: string | null;
  phase: string | null;
  filesChanged: number;
  added: number | null;
  removed: number | null;
  commits: number | null;
  inputTokens: number;
  outputTokens: number;
  modelUsd: number;
  sandboxUsd: number;
  costUsd: number;
  egressDenied: number;
  /** Since the last sign of life (event, heartbeat, activity), or null when none. */
  heartbeatAgeMs: number | null;
  branch: string | null;
  worktree: string | null;
  error: string | null;
  attention: AttentionReason | null;
}

/** The fleet header. */
export interface FleetHeader {
  done: number;
  running: number;
  queued: number;
  failed: number;
  orphaned: number;
  /** Sandboxes in use now (running or starting, with a live owner). */
  concurrency: number;
  providers: Record<string, number>;
  modelUsd: number;
  sandboxUsd: number;
  totalUsd: number;
  budgetUsd: number | null;
  oldestRunningMs: number | null;
}

/** One entry of the attention lane. */
export interface AttentionItem {
  id: string;
  taskId: string | null;
  reason: AttentionReason;
  message: string;
}

/** The dashboard's read model: what every surface (TUI, plain table, JSON, web) shows. */
export interface DashboardModel {
  generatedAt: string;
  fleet: FleetHeader;
  attention: AttentionItem[];
  rows: DashboardRow[];
}

/** How the model is built: budgets, when a running session counts as idle, how to probe pids. */
export interface ModelOptions extends ViewOptions {
  budgetUsd?: number;
  idleMinutes?: number;
}

/** Minutes without an event after which a running session is idle. */
export const DEFAULT_IDLE_MINUTES = 5;

const round = (n: number): number => Math.round(n * 1e6) / 1e6;
const at = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

function attentionOf(s: Session, state: RowState, idleMs: number | null, opts: ModelOptions): AttentionReason | null {
  if (state === 'orphaned' || state === 'stale') return 'orphaned';
  if (s.reason === 'results_refused') return 'results_refused';
  if (s.status === 'failed') return 'failed';
  if (s.status === 'timed_out') return 'timed_out';
  if (s.status === 'over_budget') return 'over_budget';
  if (s.status === 'running' && idleMs !== null && idleMs > (opts.idleMinutes ?? DEFAULT_IDLE_MINUTES) * 60_000) return 'idle';
  return null;
}

const MESSAGES: Record<AttentionReason, (r: DashboardRow) => string> = {
  orphaned: (r) => `orphaned — \`parallel-cc cleanup\` or \`parallel-cc sandbox reattach ${r.id}\`${r.stateNote ? ` (${r.stateNote})` : ''}`,
  results_refused: (r) => `results refused: ${r.error ?? ''}`.trim(),
  failed: (r) => `failed: ${r.error ?? 'see its log'}`,
  timed_out: () => 'timed out',
  over_budget: (r) => `over budget ($${r.costUsd.toFixed(4)})`,
  idle: (r) => `idle: no event for ${Math.round((r.heartbeatAgeMs ?? 0) / 60_000)} min`,
};

/** One session's row from its registry row, what its logs said and (once ended) its branch's diff. */
export function buildRow(s: Session, digest: SessionDigest | undefined, stat: DiffStat | undefined, now: Date, opts: ModelOptions = {}): DashboardRow {
  const d = digest ?? emptyDigest();
  const view = classifySession(s, now, opts);
  const t = now.getTime();
  const state: RowState = view.liveness === 'orphaned' || view.liveness === 'stale' ? view.liveness : s.status;
  const since = isTerminal(s.status) ? at(s.completedAt) : s.status === 'running' ? (at(s.startedAt) ?? at(s.updatedAt)) : at(s.createdAt);
  const beats = [d.lastEventAt, at(s.heartbeatAt), at(s.lastActivityAt)].filter((x): x is number => x !== null);
  const lastBeat = beats.length ? Math.max(...beats) : null;
  const modelUsd = s.costUsd ?? d.costUsd ?? 0;
  const sandboxUsd = s.sandboxCostUsd ?? d.sandboxUsd ?? 0;
  const row: DashboardRow = {
    id: s.id,
    taskId: s.taskId,
    groupId: s.groupId,
    agent: s.agent ?? 'claude',
    model: d.model,
    provider: s.provider,
    state,
    status: s.status,
    stateNote: view.livenessReason ?? null,
    inStateMs: Math.max(0, t - (since ?? t)),
    step: d.step,
    phase: d.phase,
    filesChanged: stat?.files ?? s.filesChanged ?? d.touched.size,
    added: stat?.added ?? null,
    removed: stat?.removed ?? null,
    commits: s.commits,
    inputTokens: s.inputTokens ?? d.inputTokens,
    outputTokens: s.outputTokens ?? d.outputTokens,
    modelUsd: round(modelUsd),
    sandboxUsd: round(sandboxUsd),
    costUsd: round(modelUsd + sandboxUsd),
    egressDenied: d.egressDenied,
    heartbeatAgeMs: lastBeat === null ? null : Math.max(0, t - lastBeat),
    branch: s.branch,
    worktree: s.worktreePath,
    error: s.error === null ? null : safeText(s.error, 300),
    attention: null,
  };
  row.attention = attentionOf(s, state, isTerminal(s.status) ? null : row.heartbeatAgeMs, opts);
  return row;
}

/** The whole read model from the rows of the sessions shown. */
export function buildModel(rows: DashboardRow[], now: Date, opts: ModelOptions = {}): DashboardModel {
  const fleet: FleetHeader = { done: 0, running: 0, queued: 0, failed: 0, orphaned: 0, concurrency: 0, providers: {}, modelUsd: 0, sandboxUsd: 0, totalUsd: 0, budgetUsd: opts.budgetUsd ?? null, oldestRunningMs: null };
  for (const r of rows) {
    if (r.state === 'orphaned' || r.state === 'stale') fleet.orphaned += 1;
    else if (r.state === 'completed') fleet.done += 1;
    else if (r.state === 'running' || r.state === 'initializing') fleet.running += 1;
    else if (r.state === 'pending') fleet.queued += 1;
    else if (r.state !== 'skipped') fleet.failed += 1; // failed, timed out, killed, over budget
    if (r.state === 'running' || r.state === 'initializing') {
      fleet.concurrency += 1;
      fleet.providers[r.provider] = (fleet.providers[r.provider] ?? 0) + 1;
      if (r.state === 'running') fleet.oldestRunningMs = Math.max(fleet.oldestRunningMs ?? 0, r.inStateMs);
    }
    fleet.modelUsd += r.modelUsd;
    fleet.sandboxUsd += r.sandboxUsd;
  }
  fleet.modelUsd = round(fleet.modelUsd);
  fleet.sandboxUsd = round(fleet.sandboxUsd);
  fleet.totalUsd = round(rows.reduce((a, r) => a + r.costUsd, 0));
  const attention = rows.filter((r) => r.attention !== null).map((r) => ({ id: r.id, taskId: r.taskId, reason: r.attention as AttentionReason, message: MESSAGES[r.attention as AttentionReason](r) }));
  if (opts.budgetUsd !== undefined && fleet.totalUsd > opts.budgetUsd) attention.unshift({ id: '', taskId: null, reason: 'over_budget', message: `the fleet spent $${fleet.totalUsd.toFixed(4)} of a $${opts.budgetUsd.toFixed(2)} budget` });
  return { generatedAt: now.toISOString(), fleet, attention, rows };
}
