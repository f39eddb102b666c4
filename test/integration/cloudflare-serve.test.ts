/**
 * `test/fixtures/cloudflare/serve.ts`, the bridge emulator as a process of its own: it prints
 * CLOUDFLARE_SANDBOX_URL and SANDBOX_API_KEY, the provider works through them, and it stops its
 * containers (and reports its schema violations: none) when told to stop.
 */
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { CloudflareProvider } from '../../src/providers/cloudflare/index.js';
import { execCollect } from '../../src/providers/provider.js';
import { useServeProcess } from '../helpers/serve-process.js';

const { tmp, start } = useServeProcess('cloudflare/serve.ts', 'cf-serve-');

describe('cloudflare serve.ts', () => {
  it('prints CLOUDFLARE_SANDBOX_URL and SANDBOX_API_KEY, serves the provider through them, and stops its containers on SIGTERM', async () => {
    const { SANDBOX_API_KEY: _key, ...env } = process.env;
    const { proc, lines, vars, stderr } = await start(env, 2);
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(['CLOUDFLARE_SANDBOX_URL', 'SANDBOX_API_KEY']);
    expect(vars.CLOUDFLARE_SANDBOX_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(vars.SANDBOX_API_KEY).toMatch(/^cfsb_[0-9a-f]{48}$/);

    const provider = new CloudflareProvider({ ...env, ...vars }, ConfigSchema.parse({}).providers.cloudflare);
    await provider.checkAvailable();
    const box = await provider.create({ sessionId: 'serve', bridges: {}, labels: {} });
    const r = await execCollect(provider, box, { argv: ['sh', '-c', 'echo "hi from $(pwd)"'] });
    expect(r.stdout.toString()).toBe('hi from /workspace/repo\n');
    expect(readdirSync(tmp).some((d) => d.startsWith('e2b-emu-'))).toBe(true);

    proc.kill('SIGTERM');
    await once(proc, 'exit');
    expect(stderr()).toMatch(/stopping 1 container\(s\); 0 schema violation\(s\)/);
    expect(readdirSync(tmp).filter((d) => d.startsWith('e2b-emu-'))).toEqual([]);
  });
});
