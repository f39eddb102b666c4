import type { Context } from '../../core/context.js';
import { openPullRequest, type PrOutput } from '../../core/merge/pr.js';

/** Options of `parallel-cc pr`. */
export interface PrFlags {
  remote?: string;
  title?: string;
  base?: string;
  draft?: boolean;
  json?: boolean;
}

/** `parallel-cc pr <session>` (core/merge/pr.ts). */
export function prCommand(session: string, flags: PrFlags, ctx: Context): Promise<PrOutput> {
  return openPullRequest({ session, ...(flags.remote !== undefined ? { remote: flags.remote } : {}), ...(flags.title !== undefined ? { title: flags.title } : {}), ...(flags.base !== undefined ? { base: flags.base } : {}), ...(flags.draft ? { draft: true } : {}) }, ctx);
}

/** The human report of `pr`. */
export function prLines(out: PrOutput): string[] {
  if (out.via === 'gh') return [`Pushed ${out.branch} to ${out.remote}; pull request into ${out.base}: ${out.url ?? '(gh printed no URL)'}`];
  return [
    `gh is not installed or not logged in (\`gh auth status\`): nothing was pushed. To push ${out.branch} and open the pull request:`,
    ...(out.commands ?? []).map((c) => `  ${c}`),
    out.compareUrl ? `  then open ${out.compareUrl}` : `  then open a pull request from ${out.branch} into ${out.base} on your git host`,
  ];
}
