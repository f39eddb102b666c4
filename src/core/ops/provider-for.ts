import { loadConfig } from '../../config/load.js';
import type { Context } from '../context.js';
import type { SandboxProvider } from '../../providers/provider.js';
import { createProvider, providerNames } from '../../providers/registry.js';
import type { Session } from '../../store/sessions.js';

/** The provider a recorded session ran on, configured as for its repo; undefined for local sessions. */
export async function providerFor(session: Session, ctx: Context): Promise<SandboxProvider | undefined> {
  if (session.kind !== 'sandbox' || !providerNames().includes(session.provider)) return undefined;
  const { config } = loadConfig({ home: ctx.home, repoRoot: session.repoPath, env: ctx.env });
  try {
    return await createProvider(session.provider, ctx.env, config);
  } catch {
    return undefined;
  }
}
