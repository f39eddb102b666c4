import { formatDuration, type SessionView } from '../core/ops/view.js';
import type { StatusOutput } from './commands/status.js';
import { escapeControls } from '../core/sanitize.js';
import { cutEnd, cutStart } from '../core/format.js';
import { fitTable } from './table.js';

/** The status word shown for a session (orphaned/stale override the recorded status). */
export function shownStatus(v: SessionView): string {
  return v.liveness === 'orphaned' ? `orphaned (was ${v.status})` : v.liveness === 'stale' ? 'stale' : v.status;
}

/** How the status table is drawn: colour, and the terminal's width when stdout is one. */
export interface StatusStyle {
  paint: (code: string, s: string) => string;
  /** Terminal columns: the table fits them, cutting prompts and paths with `…`. Unset: no limit. */
  columns?: number;
}

/** One unit, for narrow tables: 45s, 12m, 3h. */
const short = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
};

const cost = (v: SessionView): string => ((v.costUsd ?? null) === null && (v.sandboxCostUsd ?? null) === null ? '-' : `$${((v.costUsd ?? 0) + (v.sandboxCostUsd ?? 0)).toFixed(4)}`);

/** The components a session ran with (`components agent:x/y (catalog), …`), or ''. */
function componentsOf(v: SessionView): string {
  try {
    const list: unknown = v.components ? JSON.parse(v.components) : [];
    return Array.isArray(list) && list.length ? `components ${list.map(String).join(', ')}` : '';
  } catch {
    return '';
  }
}

/** Human lines for `parallel-cc status`. Everything from the registry is shown terminal-safe. */
export function statusLines(out: StatusOutput, style: StatusStyle): string[] {
  const hold = out.modelApi?.hold;
  const fleet = hold ? [style.paint('33', `Model API: ${escapeControls(hold.reason)}; resuming in ${Math.max(1, Math.ceil(hold.resumeInMs / 1000))} s`)] : [];
  if (out.total === 0) return [...fleet, 'No active sessions. (`parallel-cc status --all` includes ended ones.)'];
  const { paint, columns: width } = style;
  const narrow = width !== undefined;
  const lines: string[] = [];
  for (const { repo, sessions } of out.repos) {
    lines.push(paint('1', narrow ? cutStart(escapeControls(repo), width - 1) : repo));
    const statusColor = (v: SessionView): string | undefined => (v.liveness === 'orphaned' || v.liveness === 'stale' ? '33' : v.status === 'failed' ? '31' : undefined);
    const rows = sessions.map((v) => {
      // On a terminal: one-unit times, and the status word alone (why it is orphaned is on its own line).
      const dur = narrow ? short : formatDuration;
      const timeout = v.timeoutSeconds ? dur(v.timeoutSeconds * 1000) : '-';
      return [
        v.id,
        v.kind === 'local' ? `local pid ${String(v.pid)}` : `${v.provider}`,
        narrow ? (v.liveness === 'orphaned' || v.liveness === 'stale' ? v.liveness : v.status) : shownStatus(v),
        `${dur(v.ageMs)} ago`,
        v.elapsedMs === null ? '-' : `${dur(v.elapsedMs)}/${timeout}`,
        cost(v),
        v.lastActivity ?? '-',
        v.promptExcerpt ?? '',
      ];
    });
    const table = fitTable(
      [
        { header: 'ID', min: 8 },
        { header: 'KIND', max: 16, min: 6, shrink: 4 },
        {
          header: 'STATUS',
          max: 24,
          min: 10,
          shrink: 3,
          paint: (cell, row) => {
            const c = statusColor(sessions[row] as SessionView);
            return c ? paint(c, cell) : cell;
          },
        },
        { header: 'STARTED', min: 7, shrink: 5 },
        { header: narrow ? 'ELAPSED' : 'ELAPSED/TIMEOUT', min: 7, shrink: 6 },
        { header: 'COST', min: 4, shrink: 7 },
        { header: narrow ? 'ACTIVITY' : 'LAST ACTIVITY', max: 14, min: 8, shrink: 1 },
        { header: 'PROMPT', max: 40, min: 12, shrink: 2 },
      ],
      rows,
      { indent: '  ', ...(narrow ? { width } : {}) },
    );
    lines.push(table[0] ?? '');
    sessions.forEach((v, n) => {
      lines.push(table[n + 1] ?? '');
      const pathRoom = narrow ? Math.max(20, width - 13 - 'worktree '.length) : Infinity;
      const extra = [
        v.sandboxId ? `sandbox ${v.sandboxId}` : '',
        v.worktreePath ? `worktree ${narrow ? cutStart(escapeControls(v.worktreePath), pathRoom) : v.worktreePath}` : '',
        v.livenessReason ?? '',
        componentsOf(v),
        v.workflow ? `workflow ${v.workflow}${v.attemptOf ? ` (retry of ${v.attemptOf})` : ''}` : '',
        v.error ? `error: ${cutEnd(v.error, 100)}` : '',
      ]
        .filter(Boolean)
        .map(escapeControls);
      // On a terminal each detail gets its own line, cut to the width; elsewhere one line as before.
      const indent = `  ${' '.repeat(9)} `;
      if (narrow) for (const x of extra) lines.push(`${indent}${paint('2', cutEnd(x, width - indent.length - 1))}`);
      else if (extra.length) lines.push(`${indent}${paint('2', extra.join(' · '))}`);
    });
  }
  return [...fleet, ...lines];
}
