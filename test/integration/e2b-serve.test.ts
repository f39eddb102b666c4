/**
 * `test/fixtures/e2b/serve.ts`, the emulator as a process of its own: it prints the variables the
 * unmodified SDK reads, serves them, and kills its sandboxes when told to stop.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Sandbox } from 'e2b';
import { useServeProcess, type Served } from '../helpers/serve-process.js';

const { start } = useServeProcess('e2b/serve.ts', 'e2b-serve-');
let proc: ChildProcess | undefined;

/** Whether a process with exactly this command line runs on this host. */
const running = (cmdline: string): boolean =>
  readdirSync('/proc').some((d) => {
    try {
      return /^\d+$/.test(d) && readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim() === cmdline;
    } catch {
      return false;
    }
  });

/** Starts serve.ts and reads its three lines. */
async function serve(env: NodeJS.ProcessEnv): Promise<Served> {
  const served = await start(env, 3);
  proc = served.proc;
  return served;
}

describe('serve.ts', () => {
  it('prints E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY, serves the unmodified SDK through them, and kills its sandboxes on SIGTERM', async () => {
    const { E2B_API_KEY: _key, ...env } = process.env;
    const { vars, lines } = await serve(env);
    expect(lines.map((l) => l.split('=')[0])).toEqual(['E2B_API_URL', 'E2B_SANDBOX_URL', 'E2B_API_KEY']);
    expect(vars.E2B_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // A fresh key in the format the SDK validates.
    expect(vars.E2B_API_KEY).toMatch(/^e2b_[0-9a-f]{40}$/);
    const conn = { apiKey: vars.E2B_API_KEY!, apiUrl: vars.E2B_API_URL!, sandboxUrl: vars.E2B_SANDBOX_URL! };

    const sbx = await Sandbox.create('base', conn);
    expect((await sbx.commands.run('echo hi from $(id -un)')).stdout).toBe('hi from user\n');
    await sbx.files.write('/home/user/f.txt', 'data');
    expect(await sbx.files.read('/home/user/f.txt')).toBe('data');
    expect((await Sandbox.list(conn).nextItems()).map((s) => s.sandboxId)).toEqual([sbx.sandboxId]);
    await expect(Sandbox.list({ ...conn, apiKey: `e2b_${'0'.repeat(40)}` }).nextItems()).rejects.toThrow(/Invalid API key/);
    // A process in the sandbox is a real process on this host: it must be gone once the emulator stops.
    const marker = `sleep ${4000 + Math.floor(Math.random() * 1000)}.5`;
    await sbx.commands.run(marker, { background: true, timeoutMs: 0 });
    await expect.poll(() => running(marker), { timeout: 5000 }).toBe(true);

    proc!.kill('SIGTERM');
    const [code] = (await once(proc!, 'exit')) as [number | null];
    expect(code).toBe(0);
    await expect.poll(() => running(marker), { timeout: 5000 }).toBe(false);
    await expect(sbx.commands.run('true', { requestTimeoutMs: 2000 })).rejects.toThrow();
  });

  it('uses E2B_API_KEY from its environment when set', async () => {
    const key = `e2b_${'a1'.repeat(20)}`;
    const { vars } = await serve({ ...process.env, E2B_API_KEY: key });
    expect(vars.E2B_API_KEY).toBe(key);
    const conn = { apiKey: key, apiUrl: vars.E2B_API_URL! };
    await expect(Sandbox.list(conn).nextItems()).resolves.toEqual([]);
    proc!.kill('SIGINT');
    expect(((await once(proc!, 'exit')) as [number | null])[0]).toBe(0);
  });
});
