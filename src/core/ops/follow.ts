import { agentFor } from '../../agents/registry.js';
import type { SandboxProvider } from '../../providers/provider.js';
import type { Session } from '../../store/sessions.js';
import type { StreamEvent } from '../events.js';
import { withReconnected } from './reconnect.js';

/** What {@link followInSandbox} found. */
export type FollowResult =
  | { kind: 'unsupported' }
  | { kind: 'gone'; sandboxId: string }
  | { kind: 'followed'; sandboxId: string; lines: number; exitCode: number | null; interrupted: boolean };

/**
 * Reattaches to the agent of a session whose CLI died while its sandbox lives on (providers whose
 * sandboxes survive the CLI): the agent's output kept inside the sandbox is parsed into the usual
 * events from the line after `afterLine` (the last one the dead CLI logged) until the agent ends.
 */
export async function followInSandbox(
  session: Session,
  provider: SandboxProvider | undefined,
  opts: { afterLine: number; signal: AbortSignal; now: () => Date; onEvent: (e: StreamEvent) => void },
): Promise<FollowResult> {
  if (!provider?.capabilities.survivesCli || !provider.followLog || !provider.reconnect || !session.sandboxId) return { kind: 'unsupported' };
  const followLog = provider.followLog.bind(provider);
  const sandboxId = session.sandboxId;
  // The row says which agent printed the lines (rows from before the column: claude).
  const parseLine = agentFor(session.agent).parser();
  const followed = await withReconnected(session, { provider, tolerant: true }, async (handle) => {
    let lineNo = opts.afterLine;
    const { exitCode } = await followLog(handle, 'agent', {
      fromLine: opts.afterLine + 1,
      signal: opts.signal,
      onLine: (line) => {
        lineNo += 1;
        for (const ev of parseLine(line)) opts.onEvent({ ts: opts.now().toISOString(), sessionId: session.id, ...ev, agentLine: lineNo });
      },
    });
    return { kind: 'followed' as const, sandboxId: handle.id, lines: lineNo - opts.afterLine, exitCode, interrupted: opts.signal.aborted };
  });
  return followed ? followed.value : { kind: 'gone', sandboxId };
}
