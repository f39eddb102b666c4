/**
 * Resource limits as the local providers' config spells them (`memoryLimit: '2g'`, `pidsLimit: 512`),
 * turned into the numbers cgroups (native) and the docker daemon (docker) take.
 */

/** Parses a size like 512m / 2g / 1048576 into bytes (binary units: k = 1024). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgKMG]?)$/.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

/** The limits of one local sandbox, in bytes and processes. */
export interface LocalLimits {
  memoryBytes: number;
  pids: number;
}

/** A provider config section's limits (pids defaults to `defaultPids` where the provider has no setting). */
export function parseLimits(config: { memoryLimit: string; pidsLimit?: number }, defaultPids = 512): LocalLimits {
  const pids = config.pidsLimit ?? defaultPids;
  if (!Number.isInteger(pids) || pids <= 0) throw new Error(`not a pids limit: ${String(pids)}`);
  return { memoryBytes: parseSize(config.memoryLimit), pids };
}
