import { createElement as h, useEffect, useState, type ReactElement } from 'react';
import { Box, render, Text, useApp, useInput, useStdout } from 'ink';
import type { Context } from '../../core/context.js';
import { overlaps } from '../../core/dashboard/branch.js';
import { dashboardActions, drillDown, type DrillDown } from '../../core/dashboard/drill.js';
import type { LiveDashboard } from '../../core/dashboard/live.js';
import type { DashboardModel, DashboardRow } from '../../core/dashboard/model.js';
import { toAppError } from '../../errors.js';
import { fleetLine, rowCells, tableLines } from './format.js';

const STATE_COLOURS: Record<string, string> = { running: 'cyan', initializing: 'cyan', pending: 'gray', completed: 'green', failed: 'red', timed_out: 'red', over_budget: 'red', killed: 'magenta', orphaned: 'yellow', stale: 'yellow' };

/** The keys, as the footer shows them (k kills at once: no confirmation, only a live row). */
export const TUI_KEYS = '↑/↓ or j/u move · enter details · d diff · k kill · r reattach · s download · m merge preview · esc back · q quit';

interface Props {
  live: LiveDashboard;
  ctx: Context;
  color: boolean;
  downloadDir: string;
}

type View = { kind: 'list' } | { kind: 'detail' | 'diff'; id: string; data?: DrillDown };

function Dashboard({ live, ctx, color, downloadDir }: Props): ReactElement {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [model, setModel] = useState<DashboardModel>(() => live.model());
  // The selection follows the session, not the line: new sessions come in at the top.
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [view, setView] = useState<View>({ kind: 'list' });
  const [note, setNote] = useState('');
  const [size, setSize] = useState({ columns: stdout.columns || 100, rows: stdout.rows || 30 });
  useEffect(() => live.subscribe(setModel), [live]);
  useEffect(() => {
    const onResize = (): void => setSize({ columns: stdout.columns || 100, rows: stdout.rows || 30 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  const rows = model.rows;
  const index = Math.max(0, rows.findIndex((r) => r.id === selected));
  const current: DashboardRow | undefined = rows[index];
  const act = (label: string, fn: () => Promise<unknown>, done: (v: unknown) => string): void => {
    setNote(`${label}…`);
    fn().then(
      (v) => setNote(done(v)),
      (e: unknown) => setNote(`${label} failed: ${toAppError(e).message}`),
    );
  };
  const open = (kind: 'detail' | 'diff', id: string): void => {
    setView({ kind, id });
    drillDown(live, id, ctx).then(
      (data) => setView((v) => (v.kind !== 'list' && v.id === id ? { kind: v.kind, id, data } : v)),
      (e: unknown) => setNote(toAppError(e).message),
    );
  };
  useInput((input, key) => {
    if (input === 'q') return exit();
    if (key.escape) return setView({ kind: 'list' });
    if (key.downArrow || input === 'j') return setSelected(rows[Math.min(rows.length - 1, index + 1)]?.id);
    if (key.upArrow || input === 'u') return setSelected(rows[Math.max(0, index - 1)]?.id);
    if (!current) return;
    const id = current.id;
    if (key.return) return open('detail', id);
    if (input === 'd') return open('diff', id);
    if (input === 'k') return act(`killing ${id}`, () => dashboardActions.kill(ctx, id), (v) => `${id}: ${(v as { status: string }).status}`);
    if (input === 'r') return act(`reattaching ${id}`, () => dashboardActions.reattach(ctx, id), () => `${id}: reattached`);
    if (input === 's') return act(`downloading ${id}`, () => dashboardActions.download(ctx, id, downloadDir), (v) => `${id}: ${(v as { files: string[] }).files.length} file(s) → ${downloadDir}`);
    if (input === 'm')
      return act(`merge preview of ${id}`, () => dashboardActions.mergePreview(ctx, live, id), (v) => {
        const p = v as { clean: boolean; base: string; conflicts: string[] };
        const ov = overlaps(id, live.diffStats()).map((o) => `overlaps with ${o.sessionId} on ${o.files.join(', ')}`);
        return [`${id} into ${p.base}: ${p.clean ? 'merges cleanly' : `conflicts in ${p.conflicts.join(', ')}`}`, ...ov].join('; ');
      });
  });
  const paint = (c: string | undefined): { color?: string } => (color && c ? { color: c } : {});
  const width = Math.max(40, size.columns - 1);
  const header = h(Text, { wrap: 'truncate', bold: color }, `parallel-cc dashboard  ${fleetLine(model.fleet)}`);
  const attention = model.attention.length
    ? h(Box, { flexDirection: 'column' }, h(Text, paint('yellow'), 'ATTENTION'), ...model.attention.slice(0, 5).map((a, i) => h(Text, { key: `a${i}`, wrap: 'truncate', ...paint('yellow') }, `  ! ${a.id || 'fleet'} ${a.message}`)))
    : null;
  const footer = h(Text, { wrap: 'truncate', dimColor: color }, note ? `${note}  |  ${TUI_KEYS}` : TUI_KEYS);
  if (view.kind !== 'list') {
    const d = view.data;
    const body = !d ? ['loading…'] : view.kind === 'diff' ? (d.diff.length ? d.diff : ['(no changes on the branch yet)']) : detailLines(d);
    const room = Math.max(3, size.rows - 4);
    return h(Box, { flexDirection: 'column' }, header, h(Text, { bold: color }, `${view.kind} of ${view.id}`), ...body.slice(0, room).map((l, i) => h(Text, { key: `l${i}`, wrap: 'truncate', ...paint(view.kind === 'diff' ? (l.startsWith('+') ? 'green' : l.startsWith('-') ? 'red' : undefined) : undefined) }, l || ' ')), footer);
  }
  const lines = tableLines(rows.map(rowCells), width);
  const room = Math.max(1, size.rows - 4 - (attention ? Math.min(5, model.attention.length) + 1 : 0));
  const first = Math.max(0, Math.min(index - room + 1, rows.length - room));
  const table = [h(Text, { key: 'head', wrap: 'truncate', bold: color }, `  ${lines[0] ?? ''}`)];
  rows.slice(first, first + room).forEach((r, i) => {
    const at = first + i;
    table.push(h(Text, { key: r.id, wrap: 'truncate', inverse: at === index && color, ...paint(STATE_COLOURS[r.state]) }, `${at === index ? '>' : ' '} ${lines[at + 1] ?? ''}`));
  });
  if (!rows.length) table.push(h(Text, { key: 'none' }, '  No sessions yet. Start one with `parallel-cc sandbox run`.'));
  return h(Box, { flexDirection: 'column' }, header, attention, ...table, footer);
}

function detailLines(d: DrillDown): string[] {
  const r = d.row;
  return [
    `state ${r.state}${r.stateNote ? ` (${r.stateNote})` : ''} · branch ${r.branch ?? '-'} · worktree ${d.worktree ?? '-'}`,
    `commits: ${d.commits.map((c) => `${c.sha} ${c.subject}`).join(' | ') || '-'}`,
    `overlaps: ${d.overlaps.map((o) => `with ${o.sessionId} on ${o.files.join(', ')}`).join('; ') || 'none'}`,
    `resources: ${d.resources ? JSON.stringify(d.resources) : 'not offered'}`,
    ...(r.error ? [`error: ${r.error}`] : []),
    `egress (${r.egressDenied} denied): ${d.egress.slice(-5).map((e) => `${e.type} ${e.text}`).join(' | ') || '-'}`,
    'events:',
    ...d.tail.slice(-40).map((e) => `  ${e.ts?.slice(11, 19) ?? '        '} ${e.type.padEnd(11)} ${e.text}`),
  ];
}

/** Runs the TUI until q / Ctrl-C. */
export async function runTui(live: LiveDashboard, ctx: Context, opts: { color: boolean; downloadDir: string }): Promise<void> {
  const app = render(h(Dashboard, { live, ctx, color: opts.color, downloadDir: opts.downloadDir }), { stdout: process.stdout, stdin: process.stdin, exitOnCtrlC: true, patchConsole: false });
  const onAbort = (): void => app.unmount();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await app.waitUntilExit();
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
