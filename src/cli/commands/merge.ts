import type { Context } from '../../core/context.js';
import { MERGE_STRATEGIES, type MergeStrategy } from '../../core/merge/build.js';
import { mergeQueue, type MergeOutput } from '../../core/merge/queue.js';
import { escapeControls } from '../../core/sanitize.js';
import { AppError } from '../../errors.js';

/** Options of `parallel-cc merge`. */
export interface MergeFlags {
  group?: string;
  into?: string;
  strategy?: string;
  check?: string;
  provider?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** `parallel-cc merge <session…> | --group <id>`: validates the flags, then runs the queue (core/merge/queue.ts). */
export async function mergeCommand(ids: string[], flags: MergeFlags, ctx: Context): Promise<MergeOutput> {
  if (flags.strategy !== undefined && !MERGE_STRATEGIES.includes(flags.strategy as MergeStrategy))
    throw new AppError('usage', `unknown --strategy "${flags.strategy}"`, { hint: `Use one of: ${MERGE_STRATEGIES.join(', ')}.` });
  if (flags.check !== undefined && flags.check.trim() === '') throw new AppError('usage', '--check is empty', { hint: 'Give the command line to run on each merged result, e.g. --check "npm test".' });
  return mergeQueue(
    {
      sessions: ids,
      ...(flags.group !== undefined ? { group: flags.group } : {}),
      ...(flags.into !== undefined ? { into: flags.into } : {}),
      ...(flags.strategy !== undefined ? { strategy: flags.strategy as MergeStrategy } : {}),
      ...(flags.check !== undefined ? { check: flags.check } : {}),
      ...(flags.provider !== undefined ? { provider: flags.provider } : {}),
      ...(flags.dryRun ? { dryRun: true } : {}),
    },
    ctx,
  );
}

/** The human report of a merge. */
export function mergeLines(out: MergeOutput): string[] {
  const lines = [`${out.dryRun ? 'Dry run: ' : ''}${out.strategy} into ${out.into} (${out.repo}) at ${out.before.slice(0, 12)}`];
  for (const s of out.steps) {
    const what = `${s.action.padEnd(14)} ${s.sessionId}${s.taskId ? ` (${s.taskId})` : ''} ${s.branch ?? ''}`;
    lines.push(`  ${what}${s.commit ? ` → ${s.commit.slice(0, 12)}` : ''}${s.check ? ` · check ${s.check.passed ? 'passed' : `failed (exit ${String(s.check.exitCode)})`}` : ''}`);
    if (s.reason) lines.push(`      ${s.reason}`);
    if (s.check && !s.check.passed && s.check.output) lines.push(...escapeControls(s.check.output).split('\n').map((l) => `      | ${l}`));
  }
  if (!out.dryRun) lines.push(`${out.into} is now at ${out.after.slice(0, 12)}`);
  if (out.stopped) lines.push(`Stopped at ${out.stopped.sessionId}: ${out.stopped.reason}`, 'To resolve it by hand:', ...out.stopped.commands.map((c) => `  ${c}`));
  return lines;
}
