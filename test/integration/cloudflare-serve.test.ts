/**
 * `test/fixtures/cloudflare/serve.ts`, the bridge emulator as a process of its own: it prints
 * CLOUDFLARE_SANDBOX_URL and SANDBOX_API_KEY, the provider works through them, and it stops its
 * containers (and reports its schema violations: none) when told to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { CloudflareProvider } from '../../src/providers/cloudflare/index.js';
import { execCollect } from '../../src/providers/provider.js';

const SERVE = fileURLToPath(new URL('../fixtures/cloudflare/serve.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const started: ChildProcess[] = [];
// tsx and the emulator's containers keep their files here; removed after.
const tmp = mkdtempSync(join(tmpdir(), 'cf-serve-'));

afterAll(() => {
  for (const p of started) {
    try {
      process.kill(-(p.pid ?? 0), 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('cloudflare serve.ts', () => {
  it('prints CLOUDFLARE_SANDBOX_URL and SANDBOX_API_KEY, serves the provider through them, and stops its containers on SIGTERM', async () => {
    const { SANDBOX_API_KEY: _key, ...env } = process.env;
    // Its own process group: a failed test can take tsx, its node and the containers down at once.
    const proc = spawn(TSX, [SERVE], { env: { ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    started.push(proc);
    const stdout = proc.stdout;
    if (!stdout) throw new Error('serve.ts has no stdout');
    let out = '';
    let err = '';
    stdout.setEncoding('utf8');
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    while (out.split('\n').length < 3) {
      const [chunk] = (await Promise.race([once(stdout, 'data'), once(proc, 'exit').then(() => { throw new Error(`serve.ts exited before printing its variables: ${err}`); })])) as [string];
      out += chunk;
    }
    const lines = out.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(['CLOUDFLARE_SANDBOX_URL', 'SANDBOX_API_KEY']);
    const vars = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
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
    expect(err).toMatch(/stopping 1 container\(s\); 0 schema violation\(s\)/);
    expect(readdirSync(tmp).filter((d) => d.startsWith('e2b-emu-'))).toEqual([]);
  });
});
