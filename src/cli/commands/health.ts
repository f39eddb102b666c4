import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../../core/context.js';
import { findSession, viewSession } from '../../core/ops/view.js';
import { sandboxCost, type SandboxStats } from '../../providers/provider.js';
import { providerModule } from '../../providers/registry.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from '../../core/registry.js';
import { sandboxDirOf } from '../../core/sandbox-dir.js';

/** Options of `parallel-cc sandbox health`. */
export interface HealthFlags {
  sessionId?: string;
  json?: boolean;
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

/** `parallel-cc sandbox health`: uptime, CPU, memory and disk of a session's sandbox, and its cost so far. */
export async function healthCommand(flags: HealthFlags, ctx: Context): Promise<HealthOutput> {
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
      const box = await provider?.reconnect?.(s.sandboxId, { sessionId: s.id, ...(sandboxDir ? { sandboxDir } : {}) });
      if (box && provider) {
        try {
          stats = (await provider.stats?.(box)) ?? {};
        } finally {
          await provider.destroy(box, { keep: true });
        }
      }
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
