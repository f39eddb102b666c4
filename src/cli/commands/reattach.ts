import type { Context } from '../../core/context.js';
import { findSession } from '../../core/ops/view.js';
import { finishSession, pidAlive, type FinishReport } from '../../core/recover.js';
import { AppError } from '../../errors.js';
import { isTerminal } from '../../store/sessions.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from './registry.js';

/**
 * `parallel-cc sandbox reattach`: takes over a session whose CLI died. A local sandbox dies with its
 * CLI, so its work so far is collected from the workspace left on disk and brought onto the branch.
 * Providers whose sandboxes outlive the CLI (capabilities.survivesCli) resume streaming there first.
 */
export async function reattachCommand(flags: { sessionId?: string }, ctx: Context): Promise<FinishReport> {
  return withRegistry(ctx, async (sessions) => {
    const s = findSession(sessions, flags.sessionId);
    if (isTerminal(s.status)) throw new AppError('usage', `session ${s.id} already ended (${s.status}); its work is on ${s.branch ?? 'no branch'}`);
    if (s.pid && pidAlive(s.pid) && s.pid !== process.pid) {
      throw new AppError('usage', `session ${s.id} is still run by parallel-cc (pid ${s.pid})`, { hint: `Watch it with: parallel-cc sandbox logs --session-id ${s.id} --follow` });
    }
    const provider = await providerFor(s, ctx);
    return finishSession(s, { sessions, provider, now: ctx.now }, { status: 'failed', reason: 'interrupted: the parallel-cc process that ran it died; work so far recovered by `sandbox reattach`' });
  });
}
