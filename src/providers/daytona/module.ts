import { z } from 'zod';
import { num, sizeBytes, str } from '../../config/env-parse.js';
import type { DoctorCheck, ProviderModule } from '../module.js';
import type { SandboxPricing } from '../provider.js';

const minutes = z.number().int().min(0);

const config = z
  .object({
    /** Daytona target (region), e.g. `us` or `eu`; unset: DAYTONA_TARGET, else the organization's default. */
    target: z.string().min(1).optional(),
    /** Snapshot the sandbox starts from (it must have Claude Code); unset: Daytona's default snapshot. */
    snapshot: z.string().min(1).optional(),
    /** Minutes without API activity before Daytona stops the sandbox (0: never). The run keeps it active while the agent works. */
    autoStopInterval: minutes.default(15),
    /** Minutes stopped before Daytona archives the sandbox (0: Daytona's maximum). */
    autoArchiveInterval: minutes.default(60),
    /** Minutes stopped before Daytona deletes the sandbox, so an orphan never bills forever (0: as soon as it stops). */
    autoDeleteInterval: minutes.default(120),
    /** vCPUs, memory and disk (GiB) of the sandbox; unset: the snapshot's. */
    cpu: z.number().int().positive().optional(),
    memory: z.number().int().positive().optional(),
    disk: z.number().int().positive().optional(),
    /** How long one Daytona API request may take before it is an error, in seconds. */
    requestTimeoutSeconds: z.number().positive().default(60),
    /** Seconds between the activity calls that keep a working sandbox from being auto-stopped. */
    keepAliveSeconds: z.number().positive().default(60),
  })
  .strict()
  .default({});

/**
 * Daytona's published usage prices (https://www.daytona.io/pricing), per second: vCPU, memory per
 * GiB and disk per GiB. The one place they live; a sandbox's hourly price follows from its resources.
 */
export const DAYTONA_RATES = { usdPerVcpuSecond: 0.000014, usdPerGibMemorySecond: 0.0000045, usdPerGibDiskSecond: 0.00000003 } as const;
/** Resources of Daytona's default snapshot (1 vCPU, 1 GiB memory, 3 GiB disk). */
export const DAYTONA_DEFAULT_RESOURCES = { cpu: 1, memory: 1, disk: 3 } as const;

/** The time price of a sandbox with these resources (billed per second, no minimum). */
export function daytonaPricing(r: { cpu?: number | undefined; memory?: number | undefined; disk?: number | undefined } = {}): SandboxPricing {
  const cpu = r.cpu ?? DAYTONA_DEFAULT_RESOURCES.cpu;
  const memory = r.memory ?? DAYTONA_DEFAULT_RESOURCES.memory;
  const disk = r.disk ?? DAYTONA_DEFAULT_RESOURCES.disk;
  const perSecond = cpu * DAYTONA_RATES.usdPerVcpuSecond + memory * DAYTONA_RATES.usdPerGibMemorySecond + disk * DAYTONA_RATES.usdPerGibDiskSecond;
  return { usdPerHour: Math.round(perSecond * 3600 * 1e6) / 1e6, minimumSeconds: 1 };
}

/** Daytona cloud sandboxes (the @daytonaio/sdk is loaded only when this provider is used). */
export const daytonaModule: ProviderModule<'daytona', typeof config> = {
  name: 'daytona',
  summary: 'daytona',
  config,
  env: [
    { name: 'PARALLEL_CC_DAYTONA_TARGET', key: 'target', parse: str },
    { name: 'PARALLEL_CC_DAYTONA_SNAPSHOT', key: 'snapshot', parse: str },
    { name: 'PARALLEL_CC_DAYTONA_AUTO_STOP', key: 'autoStopInterval', parse: num },
    { name: 'PARALLEL_CC_DAYTONA_AUTO_ARCHIVE', key: 'autoArchiveInterval', parse: num },
    { name: 'PARALLEL_CC_DAYTONA_AUTO_DELETE', key: 'autoDeleteInterval', parse: num },
    { name: 'PARALLEL_CC_DAYTONA_REQUEST_TIMEOUT', key: 'requestTimeoutSeconds', parse: num },
    { name: 'PARALLEL_CC_DAYTONA_KEEPALIVE', key: 'keepAliveSeconds', parse: num },
  ],
  flags: [
    { flags: '--daytona-target <target>', help: 'Daytona target region (env PARALLEL_CC_DAYTONA_TARGET, else DAYTONA_TARGET)', key: 'target' },
    { flags: '--daytona-snapshot <name>', help: 'Daytona snapshot with Claude Code (env PARALLEL_CC_DAYTONA_SNAPSHOT)', key: 'snapshot' },
  ],
  secrets: { env: ['DAYTONA_API_KEY'], shapes: [/\bdtn_[A-Za-z0-9]{16,}/g] },
  sdk: '@daytonaio/sdk',
  pricing: daytonaPricing(),
  hints: { longerLifetime: 'raise providers.daytona.autoStopInterval (PARALLEL_CC_DAYTONA_AUTO_STOP) or keep the CLI running: it keeps the sandbox active' },
  async doctor({ env, required, create }): Promise<DoctorCheck[]> {
    const checks: DoctorCheck[] = [];
    let detail = env.DAYTONA_API_KEY ? 'present' : 'not set';
    let ok = Boolean(env.DAYTONA_API_KEY);
    if (env.DAYTONA_API_KEY) {
      try {
        const daytona = await create();
        checks.push({ name: 'daytona key protection', ok: true, required: false, detail: daytona.keyProtection?.() ?? 'unknown' });
        await daytona.checkAvailable();
        detail = 'present and accepted by the Daytona API';
      } catch (e) {
        ok = false;
        detail = (e as Error).message;
      }
    }
    checks.push({ name: 'DAYTONA_API_KEY', ok, required, detail, fix: 'export DAYTONA_API_KEY=… (https://app.daytona.io/dashboard/keys); see https://status.daytona.io for outages' });
    return checks;
  },
  fromTemplate(t) {
    // Daytona sizes are whole vCPUs and GiB: a template's asks are rounded up.
    const gib = (v: string | number | undefined): number | undefined => (v === undefined ? undefined : Math.max(1, Math.ceil(sizeBytes(v) / 2 ** 30)));
    const [memory, disk] = [gib(t.memory), gib(t.disk)];
    return {
      config: { ...(t.daytonaSnapshot ? { snapshot: t.daytonaSnapshot } : {}), ...(t.cpus !== undefined ? { cpu: Math.ceil(t.cpus) } : {}), ...(memory ? { memory } : {}), ...(disk ? { disk } : {}) },
      ignored: ['image', 'e2bTemplate', 'cloudflareInstanceType'],
    };
  },
  async load() {
    const { DaytonaProvider } = await import('./index.js');
    return (env, section) => new DaytonaProvider(env, section);
  },
};
