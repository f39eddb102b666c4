import { z } from 'zod';
import { num, str } from '../../config/env-parse.js';
import type { DoctorCheck, ProviderModule } from '../module.js';
import type { SandboxPricing } from '../provider.js';

/** Cloudflare's container instance types: vCPU, memory (GiB), disk (GB). */
export const INSTANCE_TYPES = {
  lite: [1 / 16, 0.25, 2],
  basic: [1 / 4, 1, 4],
  'standard-1': [1 / 2, 4, 8],
  'standard-2': [1, 6, 12],
  'standard-3': [2, 8, 16],
  'standard-4': [4, 12, 20],
} as const;
export type InstanceType = keyof typeof INSTANCE_TYPES;

/**
 * What a container of `type` costs per hour at Cloudflare's list prices (Workers Paid): $0.000020
 * per vCPU-second, $0.0000025 per GiB-second of memory, $0.00000007 per GB-second of disk, billed
 * per 10 ms while it runs (no minimum). CPU is billed on use, so this is an upper bound.
 */
export function cloudflarePricing(type: InstanceType): SandboxPricing {
  const [cpu, mem, disk] = INSTANCE_TYPES[type];
  return { usdPerHour: Math.round(3600 * (cpu * 0.00002 + mem * 0.0000025 + disk * 0.00000007) * 1e6) / 1e6, minimumSeconds: 0 };
}

const config = z
  .object({
    /**
     * The longest this CLI gives one sandbox, in seconds (spec 001: PARALLEL_CC_CF_SANDBOX_TIMEOUT,
     * 300): the agent's exec ends by then and the keep-alive stops, so the container sleeps after it.
     */
    timeout: z.number().positive().default(300),
    /** The bridge's `instance_type` (deploy/cloudflare-bridge/wrangler.jsonc): prices the sandbox. */
    instanceType: z.enum(Object.keys(INSTANCE_TYPES) as [InstanceType, ...InstanceType[]]).default('standard-1'),
    /** How often a running command keeps its container awake (Cloudflare sleeps it after 10 idle minutes). */
    keepAliveSeconds: z.number().positive().default(120),
    /** How long one bridge request may take before it is an error, in seconds (a streamed exec is not bounded). */
    requestTimeoutSeconds: z.number().positive().default(60),
  })
  .strict()
  .default({});

const DEPLOY = 'deploy it from deploy/cloudflare-bridge (README: Cloudflare provider) and export CLOUDFLARE_SANDBOX_URL=https://<worker>.<account>.workers.dev';

/** Cloudflare sandboxes through the Sandbox SDK's HTTP bridge (plain fetch; nothing is loaded from the SDK). */
export const cloudflareModule: ProviderModule<'cloudflare', typeof config> = {
  name: 'cloudflare',
  summary: 'cloudflare',
  config,
  env: [
    { name: 'PARALLEL_CC_CF_SANDBOX_TIMEOUT', key: 'timeout', parse: num },
    { name: 'PARALLEL_CC_CF_INSTANCE_TYPE', key: 'instanceType', parse: str },
    { name: 'PARALLEL_CC_CF_KEEPALIVE_SECONDS', key: 'keepAliveSeconds', parse: num },
    { name: 'PARALLEL_CC_CF_REQUEST_TIMEOUT', key: 'requestTimeoutSeconds', parse: num },
  ],
  secrets: { env: ['SANDBOX_API_KEY', 'CLOUDFLARE_API_TOKEN'] },
  pricing: cloudflarePricing('standard-1'),
  hints: { longerLifetime: 'raise PARALLEL_CC_CF_SANDBOX_TIMEOUT (seconds) for longer Cloudflare runs' },
  async doctor({ env, required, create }): Promise<DoctorCheck[]> {
    const url = env.CLOUDFLARE_SANDBOX_URL;
    const checks: DoctorCheck[] = [{ name: 'CLOUDFLARE_SANDBOX_URL', ok: Boolean(url), required, detail: url ?? 'not set', fix: DEPLOY }];
    if (url) {
      const { BridgeClient } = await import('./bridge.js');
      const health = await new BridgeClient(url, env.SANDBOX_API_KEY ?? '', 15_000).health().catch((e: unknown) => ({ ok: false, errors: [(e as Error).message] }));
      checks.push({ name: 'cloudflare bridge /health', ok: health.ok, required, detail: health.ok ? 'the bridge Worker is up' : health.errors.join('; '), fix: `check the Worker's deployment (npx wrangler tail in deploy/cloudflare-bridge); ${DEPLOY}` });
      let ok = Boolean(env.SANDBOX_API_KEY);
      let detail = ok ? 'present' : 'not set';
      if (ok && health.ok) {
        try {
          await (await create()).checkAvailable();
          detail = 'present and accepted by the bridge';
        } catch (e) {
          ok = false;
          detail = (e as Error).message;
        }
      }
      checks.push({ name: 'SANDBOX_API_KEY', ok, required, detail, fix: 'export SANDBOX_API_KEY=<the value given to `npx wrangler secret put SANDBOX_API_KEY`>' });
    }
    // Only wrangler needs these (deploying the bridge without a browser login); the CLI never sends them.
    const deployVars = ['CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_ACCOUNT_ID'].filter((v) => env[v]);
    checks.push({ name: 'Cloudflare deploy credentials', ok: true, required: false, detail: deployVars.length ? `${deployVars.join(', ')} set (used by wrangler to deploy the bridge only)` : 'CLOUDFLARE_API_TOKEN/CLOUDFLARE_ACCOUNT_ID not set: `npx wrangler login` works too' });
    return checks;
  },
  // The bridge's container image and instance type fix the resources: the instance type is ours to pick.
  fromTemplate: (t) => ({ config: t.cloudflareInstanceType ? { instanceType: t.cloudflareInstanceType } : {}, ignored: ['image', 'e2bTemplate', 'daytonaSnapshot', 'cpus', 'memory', 'disk'] }),
  async load() {
    const { CloudflareProvider } = await import('./index.js');
    return (env, section) => new CloudflareProvider(env, section);
  },
};
