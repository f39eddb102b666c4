import type { Sink } from '../core/context.js';
import { formatDuration, type SessionView } from '../core/ops/view.js';
import type { StatusOutput } from './commands/status.js';
import { useColor } from './render.js';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const cut = (s: string, n: number): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

/** The status word shown for a session (orphaned/stale override the recorded status). */
export function shownStatus(v: SessionView): string {
  return v.liveness === 'orphaned' ? `orphaned (was ${v.status})` : v.liveness === 'stale' ? 'stale' : v.status;
}

/** Human lines for `parallel-cc status`. */
export function statusLines(out: StatusOutput, sink: Sink, env: NodeJS.ProcessEnv): string[] {
  if (out.total === 0) return ['No active sessions. (`parallel-cc status --all` includes ended ones.)'];
  const color = useColor(sink, env);
  const paint = (code: string, s: string): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const lines: string[] = [];
  for (const { repo, sessions } of out.repos) {
    lines.push(paint('1', repo));
    lines.push(`  ${pad('ID', 9)} ${pad('KIND', 16)} ${pad('STATUS', 24)} ${pad('STARTED', 10)} ${pad('ELAPSED/TIMEOUT', 16)} ${pad('COST', 8)} ${pad('LAST ACTIVITY', 14)} PROMPT`);
    for (const v of sessions) {
      const kind = v.kind === 'local' ? `local pid ${String(v.pid)}` : `${v.provider}`;
      const timeout = v.timeoutSeconds ? formatDuration(v.timeoutSeconds * 1000) : '-';
      const elapsed = v.elapsedMs === null ? '-' : `${formatDuration(v.elapsedMs)}/${timeout}`;
      const status = shownStatus(v);
      const statusCol = v.liveness === 'orphaned' || v.liveness === 'stale' ? paint('33', pad(status, 24)) : v.status === 'failed' ? paint('31', pad(status, 24)) : pad(status, 24);
      lines.push(
        `  ${pad(v.id, 9)} ${pad(kind, 16)} ${statusCol} ${pad(`${formatDuration(v.ageMs)} ago`, 10)} ${pad(elapsed, 16)} ${pad((v.costUsd ?? null) === null && (v.sandboxCostUsd ?? null) === null ? '-' : `$${((v.costUsd ?? 0) + (v.sandboxCostUsd ?? 0)).toFixed(4)}`, 8)} ${pad(cut(v.lastActivity ?? '-', 14), 14)} ${cut(v.promptExcerpt ?? '', 40)}`,
      );
      const extra = [v.sandboxId ? `sandbox ${v.sandboxId}` : '', v.worktreePath ? `worktree ${v.worktreePath}` : '', v.livenessReason ?? '', v.error ? `error: ${cut(v.error, 100)}` : '']
        .filter(Boolean)
        .join(' · ');
      if (extra) lines.push(`  ${' '.repeat(9)} ${paint('2', extra)}`);
    }
  }
  return lines;
}
