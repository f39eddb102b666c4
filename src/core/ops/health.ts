import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { findSession, viewSession } from './view.js';
import { sandboxCost, type SandboxStats } from '../../providers/provider.js';
import { providerModule } from '../../providers/registry.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from '../registry.js';
import { sandboxDirOf } from '../sandbox-dir.js';
import { withReconnected } from './reconnect.js';

/** Which session `parallel-cc sandbox health` looks at. */
export interface HealthRequest {
  sessionId?: string;
}

/** A session's health: registry facts plus live numbers from the provider. */
export interface HealthOutput extends SandboxStats {
  sessionId: string;
  status: string;
  liveness: string;
  provider: string;
  sandboxId: string | null;
  lastActivity: string | null;
  lastActivityAt: string | null;
  costUsd: number | null;
  /** Estimated cost of the sandbox's time so far (providers that bill by time). */
  sandboxCostUsd?: number;
  timeoutMs: number | null;
}

async function du(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const p = join(d, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      total += st.size;
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return total;
}

/** The health use case: uptime, CPU, memory and disk of a session's sandbox, and its cost so far. */
export async function sessionHealth(flags: HealthRequest, ctx: Context): Promise<HealthOutput> {
  return withRegistry(ctx, async (sessions) => {
    const s = findSession(sessions, flags.sessionId);
    const view = viewSession(s, ctx.now());
    let stats: SandboxStats = {};
    const provider = s.kind === 'sandbox' ? await providerFor(s, ctx) : undefined;
    const pricing = provider?.capabilities.pricing;
    // A running cloud sandbox costs by the second: estimate from its creation time, live.
    const sandboxCostUsd = pricing && s.sandboxCreatedAt ? (view.liveness === 'ended' ? (s.sandboxCostUsd ?? undefined) : sandboxCost(pricing, (ctx.now().getTime() - Date.parse(s.sandboxCreatedAt)) / 1000)) : undefined;
    const sandboxDir = sandboxDirOf(s);
    if ((view.liveness === 'active' || (view.liveness === 'orphaned' && provider?.capabilities.survivesCli)) && s.sandboxId) {
      const live = await withReconnected(s, { provider }, async (box, p) => (await p.stats?.(box)) ?? {});
      if (live) stats = live.value;
      // Providers whose sandbox lives in the session's folder (their module says so) count its disk use there.
      if (providerModule(s.provider)?.diskInSandboxDir && sandboxDir) stats.diskBytes = (await du(join(sandboxDir, 'workspace'))) + (await du(join(sandboxDir, 'home')));
    }
    return {
      sessionId: s.id,
      status: view.liveness === 'orphaned' ? 'orphaned' : s.status,
      liveness: view.liveness,
      provider: s.provider,
      sandboxId: s.sandboxId,
      ...(view.elapsedMs !== null ? { uptimeMs: view.elapsedMs } : {}),
      ...stats,
      lastActivity: s.lastActivity,
      lastActivityAt: s.lastActivityAt,
      costUsd: s.costUsd,
      ...(sandboxCostUsd !== undefined ? { sandboxCostUsd } : {}),
      timeoutMs: s.timeoutSeconds === null ? null : s.timeoutSeconds * 1000,
    };
  });
}
