/**
 * The E2B provider under real envd semantics (the emulator is as strict as envd): helper commands
 * outlive the SDK's default 60 s `Connect-Timeout-Ms` (the emulator scales envd's server-side
 * timeouts by 1/120, so the SDK's real default of 60 s kills after 0.5 s and a 0.5 s step stands
 * for a minute), a kill reaches a command's children although envd signals only the pid, and an
 * upload over E2B's limits is refused before any sandbox exists.
 */
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, TimeoutError } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { E2BProvider } from '../../src/providers/e2b/index.js';
import { execCollect } from '../../src/providers/provider.js';
import { startE2BEmulator, type E2BEmulator } from '../fixtures/e2b/index.js';
import { startModelServer } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { E2B_KEY } from '../helpers/e2b.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const SCALE = 1 / 120;
/** The SDK's default command timeout (60 s) as the scaled emulator applies it. */
const SCALED_DEFAULT_MS = 60_000 * SCALE;
let emu: E2BEmulator;

beforeAll(async () => {
  emu = await startE2BEmulator({ apiKey: E2B_KEY, timeoutScale: SCALE });
});
afterAll(async () => {
  await emu?.close();
});

const env = (home: string, modelUrl?: string): NodeJS.ProcessEnv => ({
  ...process.env,
  PARALLEL_CC_HOME: home,
  ...(modelUrl ? { ANTHROPIC_BASE_URL: modelUrl } : {}),
  ANTHROPIC_API_KEY: `sk-ant-e2b-${'e'.repeat(24)}`,
  E2B_API_KEY: E2B_KEY,
  E2B_API_URL: emu.apiUrl,
  E2B_SANDBOX_URL: emu.sandboxUrl,
  NO_COLOR: '1',
});

/** A file of `bytes` zeros (sparse on the host; git and the upload see every byte). */
function zeros(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

describe('e2b provider under envd timeout semantics', () => {
  it('the scaled emulator kills a command left at the SDK default timeout (the control)', async () => {
    const sbx = await Sandbox.create('base', { apiKey: E2B_KEY, apiUrl: emu.apiUrl, sandboxUrl: emu.sandboxUrl });
    try {
      await expect(sbx.commands.run(`sleep ${(SCALED_DEFAULT_MS * 4) / 1000}`)).rejects.toBeInstanceOf(Error);
      await expect(sbx.commands.run(`sleep ${(SCALED_DEFAULT_MS * 4) / 1000}`, { timeoutMs: 1000 })).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      await sbx.kill();
    }
  });

  it('a 400 MB upload and a results collection longer than the default timeout both succeed', async () => {
    const server = await startModelServer({ scenario: { steps: [{ toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/done.txt', content: 'done\n' } }] }, { text: 'done' }] } });
    try {
      const repo = makeRepo({ 'README.md': '# big\n' });
      zeros(join(repo, 'data.bin'), 400_000_000);
      git(repo, 'add', 'data.bin');
      git(repo, 'commit', '-q', '-m', 'data');
      const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', 'e2b', '--skip-claude-update', '--json'], { env: env(tempDir(), server.url) });
      const events = parseNdjson(r.stdout);
      const summary = (events.find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
      expect(summary.status, JSON.stringify(events.filter((e) => e.type !== 'debug').slice(-8))).toBe('completed');
      expect(git(repo, 'show', `${String(summary.branch)}:done.txt`)).toBe('done');
      // Collection re-hashes the 400 MB in a fresh index: longer than the SDK's default timeout here.
      const ts = (phase: string): number => Date.parse(String(events.find((e) => e.type === 'phase' && e.phase === phase)?.ts));
      expect(ts('importing') - ts('collecting')).toBeGreaterThan(SCALED_DEFAULT_MS);
    } finally {
      await server.close();
    }
  }, 240_000);

  it('kill reaches the children of a command although envd signals only its pid (plain and kept commands)', async () => {
    const provider = new E2BProvider(env(tempDir()), ConfigSchema.parse({}).providers.e2b);
    const sandbox = await provider.create({ sessionId: 'kill-test', bridges: {}, labels: {}, agentBinary: 'claude' });
    try {
      for (const logName of [undefined, 'agent']) {
        const h = provider.execute(sandbox, { argv: ['sh', '-c', 'sleep 60 & echo $! > /tmp/child; wait'], ...(logName ? { logName } : {}) });
        const read = async (): Promise<string> => (await provider.download(sandbox, '/tmp/child').catch(() => Buffer.from(''))).toString().trim();
        await expect.poll(read, { timeout: 10_000 }).toMatch(/^\d+$/);
        const child = await read();
        await h.kill();
        await h.wait();
        const r = await execCollect(provider, sandbox, { argv: ['sh', '-c', `kill -0 ${child} 2>/dev/null && echo alive || echo gone; rm -f /tmp/child`] });
        expect(r.stdout.toString().trim(), `logName ${String(logName)}`).toBe('gone');
      }
    } finally {
      await provider.destroy(sandbox);
    }
  });

  it('refuses an upload over E2B’s limits before any sandbox is created, with the sizes and the .e2bignore hint', async () => {
    const repo = makeRepo({ 'README.md': '# huge\n' });
    zeros(join(repo, 'huge.bin'), 600_000_000);
    const before = emu.sandboxes().length;
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', 'e2b', '--skip-claude-update'], { env: env(tempDir()) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/upload to e2b is too big: 600\.0 MB \(the limit is 500\.0 MB\)/);
    expect(r.stderr).toMatch(/\.e2bignore/);
    expect(emu.sandboxes().length).toBe(before);
  }, 120_000);
});
