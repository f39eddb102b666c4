import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../context.js';
import type { StreamEvent } from '../events.js';
import { followInSandbox } from './follow.js';
import { findSession } from './view.js';
import { finishSession, pidAlive, type FinishReport } from '../recover.js';
import { AppError } from '../../errors.js';
import { isTerminal, type Session } from '../../store/sessions.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from '../registry.js';

/** The last agent stdout line the session's own CLI logged (0 when none). */
async function lastLoggedAgentLine(s: Session): Promise<number> {
  const text = s.sessionDir ? await readFile(join(s.sessionDir, 'events.ndjson'), 'utf8').catch(() => '') : '';
  let last = 0;
  for (const m of text.matchAll(/"agentLine":(\d+)/g)) last = Math.max(last, Number(m[1]));
  return last;
}

/**
 * The reattach use case (`parallel-cc sandbox reattach`): takes over a session whose CLI died. Where the sandbox outlives
 * the CLI (cloud providers), the agent may still be working: its events are streamed (`onEvent`)
 * from where the dead CLI stopped until it ends, and the session ends as the agent did. A local
 * sandbox dies with its CLI, so its work so far is collected from the workspace left on disk.
 * Either way the work is brought onto the branch and the sandbox destroyed.
 */
export async function reattachSession(flags: { sessionId?: string }, ctx: Context, onEvent?: (e: StreamEvent) => void): Promise<FinishReport> {
  return withRegistry(ctx, async (sessions) => {
    const s = findSession(sessions, flags.sessionId);
    if (isTerminal(s.status)) throw new AppError('usage', `session ${s.id} already ended (${s.status}); its work is on ${s.branch ?? 'no branch'}`);
    if (s.pid && pidAlive(s.pid) && s.pid !== process.pid) {
      throw new AppError('usage', `session ${s.id} is still run by parallel-cc (pid ${s.pid})`, { hint: `Watch it with: parallel-cc sandbox logs --session-id ${s.id} --follow` });
    }
    const provider = await providerFor(s, ctx);
    const followed = await followInSandbox(s, provider, { afterLine: await lastLoggedAgentLine(s), signal: ctx.signal, now: ctx.now, onEvent: (e) => onEvent?.(e) });
    if (followed.kind === 'followed' && followed.interrupted) throw new AppError('interrupted', `stopped following session ${s.id}; its agent keeps running in sandbox ${followed.sandboxId}`);
    const deps = { sessions, provider, now: ctx.now };
    if (followed.kind === 'followed' && followed.exitCode === 0) return finishSession(sessions.require(s.id), deps, { status: 'completed', reason: '' });
    const reason =
      followed.kind === 'followed'
        ? `the agent exited with code ${String(followed.exitCode ?? 'unknown')} while its parallel-cc process was gone; work recovered by \`sandbox reattach\``
        : 'interrupted: the parallel-cc process that ran it died; work so far recovered by `sandbox reattach`';
    return finishSession(sessions.require(s.id), deps, { status: 'failed', reason });
  });
}
