import { z } from 'zod';
import { bool, num, str } from '../../config/env-parse.js';
import type { DoctorCheck, ProviderModule } from '../module.js';

const config = z
  .object({
    template: z.string().min(1).default('anthropic-claude-code'),
    /** Longest life of a sandbox, in seconds (it ends by itself after it, even if the CLI died). */
    defaultTimeout: z.number().positive().default(3600),
    /** How long one E2B API request may take before it is an error, in seconds. */
    requestTimeoutSeconds: z.number().positive().default(30),
    /**
     * Give the agent the real API key as an env var instead of a placeholder plus E2B network
     * rules (for templates or accounts without network rules). Egress is then not restricted.
     */
    keyInSandbox: z.boolean().default(false),
  })
  .strict()
  .default({});

/** E2B's price: $0.10 per sandbox-hour, billed per second with a one-minute minimum (spec 000). */
export const E2B_PRICING = { usdPerHour: 0.1, minimumSeconds: 60 } as const;

/** E2B cloud sandboxes (the e2b SDK is loaded only when this provider is used). */
export const e2bModule: ProviderModule<'e2b', typeof config> = {
  name: 'e2b',
  summary: 'e2b',
  config,
  env: [
    { name: 'PARALLEL_CC_E2B_TEMPLATE', key: 'template', parse: str },
    { name: 'PARALLEL_CC_E2B_TIMEOUT', key: 'defaultTimeout', parse: num },
    { name: 'PARALLEL_CC_E2B_REQUEST_TIMEOUT', key: 'requestTimeoutSeconds', parse: num },
    { name: 'PARALLEL_CC_E2B_KEY_IN_SANDBOX', key: 'keyInSandbox', parse: bool },
  ],
  flags: [{ flags: '--e2b-template <name>', help: 'E2B template with Claude Code installed (default anthropic-claude-code; env PARALLEL_CC_E2B_TEMPLATE)', key: 'template' }],
  secrets: { env: ['E2B_API_KEY'], shapes: [/\be2b_[A-Za-z0-9]{16,}/g] },
  // An E2B template fixes the sandbox's resources: only the template name is ours to pick.
  fromTemplate: (t) => ({ config: t.e2bTemplate ? { template: t.e2bTemplate } : {}, ignored: ['image', 'daytonaSnapshot', 'cloudflareInstanceType', 'cpus', 'memory', 'disk'] }),
  sdk: 'e2b',
  pricing: E2B_PRICING,
  hints: { longerLifetime: 'raise PARALLEL_CC_E2B_TIMEOUT if your plan allows longer sandboxes' },
  async doctor({ env, required, create }): Promise<DoctorCheck[]> {
    const checks: DoctorCheck[] = [];
    let detail = env.E2B_API_KEY ? 'present' : 'not set';
    let ok = Boolean(env.E2B_API_KEY);
    if (env.E2B_API_KEY) {
      // One authenticated call, as a run makes before it starts: a revoked key or an outage shows here.
      try {
        const e2b = await create();
        checks.push({ name: 'e2b key protection', ok: true, required: false, detail: e2b.keyProtection?.() ?? 'unknown' });
        await e2b.checkAvailable();
        detail = 'present and accepted by the E2B API';
      } catch (e) {
        ok = false;
        detail = (e as Error).message;
      }
    }
    checks.push({ name: 'E2B_API_KEY', ok, required, detail, fix: 'export E2B_API_KEY=… (https://e2b.dev/dashboard?tab=keys); see https://status.e2b.dev for outages' });
    return checks;
  },
  async load() {
    const { E2BProvider } = await import('./index.js');
    return (env, section) => new E2BProvider(env, section);
  },
};
