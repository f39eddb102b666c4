import type { SandboxHandle, SandboxProvider } from '../../providers/provider.js';
import type { Session } from '../../store/sessions.js';
import { sandboxDirOf } from '../sandbox-dir.js';

/** What {@link withReconnected} needs: the session's provider, and how to treat a failing reconnect/release. */
export interface ReconnectContext {
  provider: SandboxProvider | undefined;
  /** When true a reconnect that throws counts as "no sandbox" and a failing release is ignored. */
  tolerant?: boolean;
}

/**
 * Reconnects to a recorded session's sandbox where its provider can, runs `fn` on the handle and
 * releases it with `keep` (the sandbox lives on: only this process's hold on it ends, even when `fn`
 * throws). Returns `{ value }` from `fn`, or undefined when there is no sandbox to reconnect to (no
 * provider, no reconnect support, no sandbox id, or the provider no longer finds it).
 */
export async function withReconnected<T>(
  session: Session,
  ctx: ReconnectContext,
  fn: (box: SandboxHandle, provider: SandboxProvider) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const { provider } = ctx;
  if (!provider?.reconnect || !session.sandboxId) return undefined;
  const sandboxDir = sandboxDirOf(session);
  const connecting = provider.reconnect(session.sandboxId, { sessionId: session.id, ...(sandboxDir ? { sandboxDir } : {}) });
  const box = ctx.tolerant ? await connecting.catch(() => undefined) : await connecting;
  if (!box) return undefined;
  try {
    return { value: await fn(box, provider) };
  } finally {
    const release = provider.destroy(box, { keep: true });
    if (ctx.tolerant) await release.catch(() => undefined);
    else await release;
  }
}
