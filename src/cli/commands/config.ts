import { resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { Context } from '../../core/context.js';
import { repoRoot } from '../../core/git.js';

/** One effective setting and the layer it came from. */
export interface ConfigEntry {
  key: string;
  value: unknown;
  source: string;
}

function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/** `parallel-cc config show`: the effective configuration with the source of every value. */
export async function configShowCommand(flags: { repo?: string }, ctx: Context): Promise<{ entries: ConfigEntry[] }> {
  const root = await repoRoot(resolve(ctx.cwd, flags.repo ?? '.')).catch(() => undefined);
  const { config, sources } = loadConfig({ home: ctx.home, ...(root ? { repoRoot: root } : {}), env: ctx.env });
  return { entries: flatten(config).map(([key, value]) => ({ key, value, source: sources[key] ?? 'default' })) };
}
