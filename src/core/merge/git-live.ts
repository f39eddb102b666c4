import { toAppError } from '../../errors.js';
import type { Context } from '../context.js';
import type { RunSummary, StreamEvent } from '../events.js';
import { checkRemote, openPullRequest, type PrOutput } from './pr.js';

/** The remote `sandbox run --git-live` pushes to. */
export const GIT_LIVE_REMOTE = 'origin';

/** `--git-live`, validated before anything is created: the repository has the remote. */
export async function checkGitLive(repo: string): Promise<{ remote: string }> {
  await checkRemote(repo, GIT_LIVE_REMOTE);
  return { remote: GIT_LIVE_REMOTE };
}

/**
 * After a `--git-live` run: a completed session with commits goes through the `pr` use case (push +
 * pull request); anything else pushes nothing and says so. A failing push is a warning: the work is
 * on the local branch either way.
 */
export async function afterGitLive(summary: RunSummary, live: { remote: string }, ctx: Context, emit: (e: StreamEvent) => void): Promise<PrOutput | undefined> {
  if (summary.status !== 'completed' || summary.commits === 0) {
    emit({ type: 'warning', message: `--git-live: nothing pushed (the session ${summary.status === 'completed' ? 'brought no commits back' : `ended ${summary.status}`})` });
    return undefined;
  }
  try {
    const pr = await openPullRequest({ session: summary.sessionId, remote: live.remote }, ctx);
    emit({ type: 'phase', phase: 'done', message: pr.via === 'gh' ? `--git-live: pushed ${pr.branch} to ${pr.remote}; pull request ${pr.url ?? '(no URL)'}` : `--git-live: gh is not installed or not logged in, nothing pushed; push with: ${(pr.commands ?? []).join(' && ')}${pr.compareUrl ? `, then open ${pr.compareUrl}` : ''}` });
    return pr;
  } catch (e) {
    const err = toAppError(e);
    emit({ type: 'warning', message: `--git-live: ${err.message}${err.hint ? ` (${err.hint})` : ''}` });
    return undefined;
  }
}
