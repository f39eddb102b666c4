import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import type { HistoryEntry, HistoryStats } from '../core/ops/history.js';
import { formatDuration } from '../core/ops/view.js';
import { escapeControls } from '../core/sanitize.js';
import { act } from './ops-program.js';

const usd = (n: number | null): string => (n === null ? '-' : `$${n.toFixed(4)}`);

function entryLines(entries: readonly HistoryEntry[]): string[] {
  if (!entries.length) return ['No finished sessions.'];
  const rows = entries.map((e) => [
    e.id,
    e.status,
    e.provider,
    e.agent,
    e.durationMs === null ? '-' : formatDuration(e.durationMs),
    usd(e.costUsd),
    e.inputTokens === null ? '-' : `${e.inputTokens}/${e.outputTokens ?? 0}`,
    String(e.filesChanged ?? '-'),
    String(e.exitCode ?? '-'),
    escapeControls((e.prompt ?? '').split('\n')[0]?.slice(0, 50) ?? ''),
  ]);
  const header = ['ID', 'STATUS', 'PROVIDER', 'AGENT', 'DURATION', 'COST', 'TOKENS', 'FILES', 'EXIT', 'PROMPT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd());
}

function statsLines(s: HistoryStats): string[] {
  return [
    `Sessions      ${s.sessions} (${s.completed} completed, ${(s.successRate * 100).toFixed(0)}% success)`,
    `Total cost    ${usd(s.totalCostUsd)}`,
    `Median time   ${s.medianDurationMs === null ? '-' : formatDuration(s.medianDurationMs)}`,
    ...s.costPerDay.map((d) => `  ${d.day}  ${String(d.sessions).padStart(4)} session(s)  ${usd(d.costUsd)}`),
  ];
}

/** `parallel-cc history [--repo P] [--status S] [--since 7d] [--stats] [--json]`. */
export function registerHistoryCommand(program: Command, ctx: Context, setExit: (code: number) => void): void {
  program
    .command('history')
    .description('finished sandbox sessions with duration, cost, tokens, files and exit code (from the registry)')
    .option('--repo <path>', 'only sessions of this repository')
    .option('--status <status>', 'only sessions that ended so: completed, failed, timed_out, killed, over_budget')
    .option('--since <when>', 'only sessions that ended since: 7d, 24h, 90m, 2w, or a date (2026-11-01)')
    .option('--stats', 'success rate, total and per-day cost, median duration')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ repo?: string; status?: string; since?: string; stats?: boolean; json?: boolean }>(ctx, setExit, async (flags) => {
        const out = await (await import('../core/ops/history.js')).history(flags, ctx);
        return { value: out, human: () => (out.stats ? statsLines(out.stats) : entryLines(out.entries)) };
      }),
    );
}
