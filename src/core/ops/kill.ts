import { access } from 'node:fs/promises';
import type { Context } from '../context.js';
import { findSession } from './view.js';
import { finishSession, pidAlive } from '../recover.js';
import { removeSessionWorktree } from '../worktree.js';
import { AppError } from '../../errors.js';
import { isTerminal, type Session, type SessionRepository } from '../../store/sessions.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from '../registry.js';
import { killTaken, requestKill, withdrawKill } from '../kill-request.js';

/** How long a live owner may take to notice a kill request (it polls every 250 ms). */
const OWNER_TAKES_MS = 5_000;

/** What `parallel-cc sandbox kill` (and MCP `sandbox_kill`) asks for. */
export interface KillRequest {
  sessionId?: string;
  keepWorktree?: boolean;
  /** commander's --no-download sets this to false. */
  download?: boolean;
}

/** What `kill` did. */
export interface KillOutput {
  sessionId: string;
  status: string;
  commits: number;
  branch: string | null;
  worktree: string | null;
  how: 'owner-stopped' | 'finished-here';
  /** What the user must know: a billed sandbox that could not be destroyed. */
  warnings?: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitTerminal(sessions: SessionRepository, id: string, ms: number): Promise<Session | undefined> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const s = sessions.get(id);
    if (s && isTerminal(s.status)) return s;
    await sleep(100);
  }
  return undefined;
}

/**
 * The kill use case: a session run by a live CLI is stopped through that CLI (a kill request
 * in the session's folder → it stops that session's agent, brings the work back and records `killed`
 * with who killed it; the rest of a --multi batch goes on), so one process owns the session's state;
 * a session whose CLI is gone is finished here. --no-download skips bringing results back.
 */
export async function killSession(flags: KillRequest, ctx: Context): Promise<KillOutput> {
  return withRegistry(ctx, async (sessions) => {
    let session = findSession(sessions, flags.sessionId);
    if (isTerminal(session.status)) throw new AppError('usage', `session ${session.id} is not running (it ended: ${session.status})`);
    let how: KillOutput['how'] = 'finished-here';
    const owner = session.pid;
    const inBatch = session.groupId !== null;
    if (owner && owner !== process.pid && pidAlive(owner)) {
      // Through the owner, for this session only: a --multi batch runs many sessions in one process.
      const dir = session.sessionDir;
      if (dir) {
        requestKill(dir, { by: `\`parallel-cc sandbox kill\` (pid ${process.pid})`, at: ctx.now().toISOString(), collect: flags.download !== false });
        if (await killTaken(dir, OWNER_TAKES_MS)) {
          const ended = await waitTerminal(sessions, session.id, inBatch ? 120_000 : 30_000);
          if (ended) {
            session = ended;
            how = 'owner-stopped';
          }
        } else withdrawKill(dir);
      }
      if (how !== 'owner-stopped' && inBatch) {
        // A signal would stop every task of the batch: never do that for one of them.
        throw new AppError('agent', `the --multi batch running session ${session.id} (pid ${owner}) did not stop it in time`, {
          hint: `Run the kill again, or stop the whole batch with Ctrl-C in its terminal (kill -TERM ${owner}).`,
        });
      }
      if (how !== 'owner-stopped' && flags.download !== false && pidAlive(owner)) {
        // An owner that does not take requests (an older CLI): SIGTERM, as it always understood.
        process.kill(owner, 'SIGTERM');
        const ended = await waitTerminal(sessions, session.id, 30_000);
        if (ended) {
          session = ended;
          how = 'owner-stopped';
        }
      }
      if (how !== 'owner-stopped') {
        // The owner did not stop in time: stop it hard (its sandbox dies with it).
        try {
          process.kill(owner, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
        await sleep(200);
      }
    }
    let warnings: string[] | undefined;
    if (how === 'finished-here') {
      const fresh = sessions.require(session.id);
      const report = await finishSession(fresh, { sessions, provider: await providerFor(fresh, ctx), now: ctx.now }, {
        status: 'killed',
        reason: 'killed by `parallel-cc sandbox kill`',
        collect: flags.download !== false,
      });
      session = sessions.require(report.sessionId);
      warnings = report.warnings;
    }
    // A batch's task keeps its worktree like the batch's other tasks: the batch copies its changed
    // files from it and its summary names it.
    if (!flags.keepWorktree && !(inBatch && how === 'owner-stopped') && session.worktreePath) {
      const present = await access(session.worktreePath).then(
        () => true,
        () => false,
      );
      // The branch keeps the work; only the checkout folder goes — never one with uncommitted edits.
      if (!present || (await removeSessionWorktree(session.repoPath, session.worktreePath))) session = sessions.update(session.id, { worktreePath: null });
    }
    return { sessionId: session.id, status: session.status, commits: session.commits ?? 0, branch: session.branch, worktree: session.worktreePath, how, ...(warnings ? { warnings } : {}) };
  });
}
