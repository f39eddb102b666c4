import { lstat, mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { git } from '../git.js';
import { exportCommit } from '../sync/export.js';
import { gitRunner } from '../sync/git-tree.js';
import { commonGitDir } from '../sync/results.js';
import type { MultiSummary, TaskResult } from './types.js';

/**
 * The output folder of a --multi run:
 *   <dir>/summary.md, <dir>/summary.json
 *   <dir>/<task-id>/metadata.json, execution.log, changed-files/<path as in the repo>
 */

/**
 * Creates a task's folder, removing what a previous run left there (its files must not mix with this
 * one's). Only parallel-cc's own entries are removed: the output dir may be somewhere like `.`, where
 * a task id can coincide with a folder of the user's.
 */
export async function prepareTaskDir(outputDir: string, taskId: string): Promise<string> {
  const dir = join(outputDir, taskId);
  await mkdir(dir, { recursive: true });
  for (const entry of ['changed-files', 'metadata.json', 'execution.log']) {
    const p = join(dir, entry);
    // A link is removed itself, never what it points at.
    const st = await lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink()) await unlink(p);
    else if (st) await rm(p, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Writes the files a task changed into `changed-files/`, taken from the git objects of the task's
 * branch (its worktree's HEAD) — never by reading the worktree, whose links could point anywhere —
 * with the export's judgement and no-follow writes (`sync/export.ts`). Files the task deleted are
 * listed, not written. Throws when the export is refused or fails.
 */
export async function copyChangedFiles(worktree: string, files: readonly string[], taskDir: string): Promise<{ copied: string[]; deleted: string[] }> {
  const g = gitRunner(await commonGitDir(worktree));
  const tip = (await git(worktree, ['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  const r = await exportCommit(g, tip, join(taskDir, 'changed-files'), { paths: files });
  return { copied: r.files, deleted: r.missing };
}

/** Writes `<task-dir>/metadata.json`. */
export async function writeTaskMetadata(taskDir: string, result: TaskResult, extra: Record<string, unknown> = {}): Promise<void> {
  await writeFile(join(taskDir, 'metadata.json'), `${JSON.stringify({ ...result, ...extra }, null, 2)}\n`);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
/** Seconds with one decimal ("12.3s"). */
export const fmtDuration = (ms: number): string => `${(Math.max(0, ms) / 1000).toFixed(1)}s`; // never `-0.0s`: a saving can't be negative
/** Dollars with four decimals, or "n/a". */
export const fmtUsd = (usd: number | null): string => (usd === null ? 'n/a' : `$${usd.toFixed(4)}`);

/** The summary.md text: a table of tasks, then wall time vs the sum of task times, then errors. */
export function summaryMarkdown(s: MultiSummary): string {
  const counts = Object.entries(s.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const speedup = s.wallMs > 0 ? ` (${(s.taskTimeMs / s.wallMs).toFixed(1)}× the speed of running them one after another)` : '';
  const lines = [
    '# parallel-cc --multi summary',
    '',
    `Group \`${s.groupId}\` · repository \`${s.repo}\` · ${s.tasks.length} task${s.tasks.length === 1 ? '' : 's'}: ${counts}${s.interrupted ? ' · interrupted (Ctrl-C)' : ''}`,
    '',
    '| task | status | duration | cost | branch | commits | session |',
    '|---|---|---|---|---|---|---|',
    ...s.tasks.map(
      (t) => `| ${cell(t.taskId)} | ${t.status} | ${t.status === 'skipped' ? '-' : fmtDuration(t.durationMs)} | ${fmtUsd(t.costUsd)} | ${t.branch ? `\`${t.branch}\`` : '-'} | ${t.commits} | ${t.sessionId} |`,
    ),
    '',
    `Wall time: ${fmtDuration(s.wallMs)} · sum of task times: ${fmtDuration(s.taskTimeMs)} · time saved: ${fmtDuration(s.timeSavedMs)}${speedup}`,
    '',
    `Total cost: ${fmtUsd(s.totalCostUsd)}`,
    ...(s.budget ? ['', `Budget: ${fmtUsd(s.budget.spentUsd)} of $${s.budget.usd}${s.budget.message ? ` · **budget reached**: ${s.budget.message}` : ''}`] : []),
  ];
  const failed = s.tasks.filter((t) => t.error);
  if (failed.length) {
    lines.push('', '## Problems', '');
    for (const t of failed) lines.push(`- **${cell(t.taskId)}** (${t.status}, ${t.error?.reason ?? ''}): ${cell(t.error?.message ?? '')}${t.error?.hint ? ` — ${cell(t.error.hint)}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes summary.json and summary.md. */
export async function writeSummary(s: MultiSummary): Promise<void> {
  await mkdir(s.outputDir, { recursive: true });
  await writeFile(join(s.outputDir, 'summary.json'), `${JSON.stringify(s, null, 2)}\n`);
  await writeFile(join(s.outputDir, 'summary.md'), summaryMarkdown(s));
}
