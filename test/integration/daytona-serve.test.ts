/**
 * `test/fixtures/daytona/serve.ts`, the emulator as a process of its own: it prints the variables
 * the unmodified SDK reads, serves them, and destroys its sandboxes when told to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daytona } from '@daytonaio/sdk';
import { afterAll, describe, expect, it } from 'vitest';

const SERVE = fileURLToPath(new URL('../fixtures/daytona/serve.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const started: ChildProcess[] = [];
// tsx and the emulator's sandboxes keep their files here; removed after.
const tmp = mkdtempSync(join(tmpdir(), 'daytona-serve-'));

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

describe('daytona serve.ts', () => {
  it('prints DAYTONA_API_URL and DAYTONA_API_KEY, serves the unmodified SDK through them, and destroys its sandboxes on SIGTERM', async () => {
    const { DAYTONA_API_KEY: _key, DAYTONA_API_URL: _url, ...env } = process.env;
    // Its own process group: a failed test can take tsx, its node and the sandboxes down at once.
    const proc = spawn(TSX, [SERVE], { env: { ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    started.push(proc);
    let out = '';
    proc.stdout.setEncoding('utf8');
    while (out.split('\n').length < 3) out += String(((await Promise.race([once(proc.stdout, 'data'), once(proc, 'exit').then(() => { throw new Error('serve.ts exited early'); })])) as [string])[0]);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const vars = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars.DAYTONA_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(vars.DAYTONA_API_KEY).toMatch(/^dtn_[0-9a-f]{64}$/);
    const daytona = new Daytona({ apiKey: vars.DAYTONA_API_KEY ?? '', apiUrl: vars.DAYTONA_API_URL ?? '', useDeprecatedPolling: true });
    const sbx = await daytona.create({ labels: { from: 'serve' } });
    expect((await sbx.process.executeCommand('echo served')).result).toBe('served\n');
    const boxes = readdirSync(tmp).filter((d) => d.startsWith('daytona-emu-'));
    expect(boxes).toHaveLength(1);
    proc.kill('SIGTERM');
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(readdirSync(tmp).filter((d) => d.startsWith('daytona-emu-'))).toEqual([]);
  });
});
