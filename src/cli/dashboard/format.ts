import type { DashboardModel, DashboardRow, FleetHeader } from '../../core/dashboard/model.js';
import { formatDuration } from '../../core/ops/view.js';
import { escapeControls } from '../../core/sanitize.js';

const usd = (n: number): string => `$${n.toFixed(4)}`;
const kTokens = (n: number): string => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n));

/** The fleet header in one line. */
export function fleetLine(f: FleetHeader): string {
  const providers = Object.entries(f.providers).map(([p, n]) => `${p}×${n}`).join(' ') || '-';
  const budget = f.budgetUsd === null ? '' : ` of ${usd(f.budgetUsd)} budget`;
  const oldest = f.oldestRunningMs === null ? '' : ` · oldest running ${formatDuration(f.oldestRunningMs)}`;
  return `${f.running} running · ${f.queued} queued · ${f.done} done · ${f.failed} failed · ${f.orphaned} orphaned · concurrency ${f.concurrency} · providers ${providers} · spend ${usd(f.totalUsd)} (model ${usd(f.modelUsd)} + sandbox ${usd(f.sandboxUsd)})${budget}${oldest}`;
}

/** What the state column says ("orphaned — cleanup or reattach" is spelled out in the attention lane). */
export function stateText(r: DashboardRow): string {
  return `${r.state} ${formatDuration(r.inStateMs)}`;
}

/** The table's columns. */
export const COLUMNS = ['ID', 'TASK', 'AGENT/MODEL', 'PROVIDER', 'STATE', 'FILES', '+/-', 'COMMITS', 'TOKENS', 'COST', 'DENIED', 'BEAT', 'STEP'] as const;

/** One row's cells, in {@link COLUMNS} order. Every string from the sandbox was escaped by the read model; escaped again here anyway (idempotent). */
export function rowCells(r: DashboardRow): string[] {
  return [
    r.id,
    r.taskId ?? '-',
    `${r.agent}${r.model ? `/${r.model}` : ''}`,
    r.provider,
    stateText(r),
    String(r.filesChanged),
    r.added === null ? '-' : `+${r.added}/-${r.removed ?? 0}`,
    r.commits === null ? '-' : String(r.commits),
    `${kTokens(r.inputTokens)}/${kTokens(r.outputTokens)}`,
    usd(r.costUsd),
    String(r.egressDenied),
    r.heartbeatAgeMs === null ? '-' : formatDuration(r.heartbeatAgeMs),
    r.step ?? r.phase ?? '',
  ].map(escapeControls);
}

/** Pads cells into aligned lines, the last column cut to fit `width`. */
export function tableLines(rows: string[][], width = 200): string[] {
  const widths = COLUMNS.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [[...COLUMNS], ...rows].map((r) => {
    const line = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    return line.length > width ? `${line.slice(0, Math.max(1, width - 1))}…` : line;
  });
}

/** The whole model as plain lines (the non-TTY table and `--once`). */
export function plainLines(m: DashboardModel, width?: number): string[] {
  const lines = [fleetLine(m.fleet)];
  if (m.attention.length) lines.push('ATTENTION', ...m.attention.map((a) => `  ! ${a.id || 'fleet'} ${a.taskId ?? ''} ${a.message}`.replace(/\s+/g, ' ')));
  lines.push(...(m.rows.length ? tableLines(m.rows.map(rowCells), width) : ['No sessions.']));
  return lines.map(escapeControls);
}
