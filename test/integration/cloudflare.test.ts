/**
 * The Cloudflare provider end to end: the CLI → plain fetch/SSE → the bridge emulator (the REAL
 * `@cloudflare/sandbox` bridge Worker, every exchange checked against its OpenAPI schema: the file
 * fails on any violation) → a bubblewrap container → the real claude binary → the scripted model
 * server. The spine, a 50 MB upload over the 32 MiB request limit, timeouts, faults (401, 502
 * before the stream, `event: error` mid-stream), keep-alive and sleep, doctor.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli, summaryOf } from '../helpers/cli.js';
import { bash, useCloudflare } from '../helpers/cloudflare.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { runSpine, SPINE_SCENARIO } from '../helpers/spine.js';
import { startCatalog } from '../fixtures/components/server.js';

const cf = useCloudflare();
const run = (home: string, repo: string, args: string[], extra: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> =>
  runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', 'cloudflare', '--skip-claude-update', '--json', ...args], { env: cf.env(home, extra) });

/** The sandbox id a session recorded. */
const sandboxOf = async (home: string, id: string): Promise<string> => String((await cf.statusRow(home, id)).sandboxId);

async function tarFiles(gz: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        files.set(h.name, Buffer.concat(chunks));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    extract.end(gunzipSync(gz));
  });
  return files;
}

describe('cloudflare provider (the real bridge Worker in the local emulator)', () => {
  it('runs the spine scenario to the same branch contents as native, prices the container and destroys it', async () => {
    await cf.serve(SPINE_SCENARIO);
    const home = tempDir();
    const { summary, events } = await runSpine({ provider: 'cloudflare', env: cf.env(home), args: ['--skip-claude-update'] });
    const sandboxId = await sandboxOf(home, String(summary.sessionId));
    expect(cf.emulator().sandboxes().find((b) => b.id === sandboxId)?.containers).toEqual(['destroyed']);
    // standard-1 (1/2 vCPU, 4 GiB, 8 GB) at list prices: $0.074016 per hour, live and recorded.
    expect(events.some((e) => e.type === 'cost' && e.usdPerHour === 0.074016)).toBe(true);
    expect(summary.sandboxCostUsd).toBeGreaterThan(0);
    expect(cf.emulator().running()).toBe(0);
  });

  it('uploads 50 MB in parts under the 32 MiB request limit, complete, without the secrets; the agent sees every byte', async () => {
    await cf.serve({ steps: [bash('sha256sum big.bin > sum.txt; ls -a > ls.txt; cat .env 2>&1 | head -c 100 > env.txt; true'), { text: 'done' }] });
    const big = randomBytes(50 * 1024 * 1024);
    const repo = makeRepo({ 'src/app.js': 'console.log(1)\n', '.gitignore': 'node_modules/\n', 'big.bin': big });
    writeFiles(repo, { '.env': 'ENV_SECRET=1\n', id_rsa: 'SSH KEY\n', 'config/service.key': 'KEY\n', 'node_modules/dep/index.js': 'x\n', 'untracked.txt': 'new work\n' });
    const home = tempDir();
    const r = await run(home, repo, []);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    const sandboxId = await sandboxOf(home, String(s.sessionId));
    // What the emulator received: the tar.gz in parts, each within the bridge's limit, that join to the plan.
    const parts = cf.emulator().received.filter((u) => u.sandboxId === sandboxId && /upload\.tar\.gz\.\d{4}$/.test(u.path));
    expect(parts.length).toBeGreaterThanOrEqual(4);
    for (const p of parts) expect(p.data.length).toBeLessThanOrEqual(32 * 1024 * 1024);
    const files = await tarFiles(Buffer.concat(parts.sort((a, b) => a.path.localeCompare(b.path)).map((p) => p.data)));
    expect([...files.keys()].sort()).toEqual(['.gitignore', 'big.bin', 'src/app.js', 'untracked.txt']);
    expect(files.get('big.bin')?.equals(big)).toBe(true);
    // And in the container: the agent hashed the file it found.
    const sum = createHash('sha256').update(big).digest('hex');
    expect(git(repo, 'show', `${String(s.branch)}:sum.txt`)).toBe(`${sum}  big.bin`);
    expect(git(repo, 'show', `${String(s.branch)}:env.txt`)).toMatch(/No such file/);
  });

  it('cuts the agent to PARALLEL_CC_CF_SANDBOX_TIMEOUT and says so, warns at 50% and 83% of --timeout and destroys the container at 100%', async () => {
    await cf.serve({ steps: [bash('echo work > w.txt'), bash(`node -e "setTimeout(() => {}, 600000)"`, 600000)] });
    const home = tempDir();
    const r = await run(home, makeRepo(), ['--timeout', '30'], { PARALLEL_CC_CF_SANDBOX_TIMEOUT: '210' });
    expect(r.code, r.stderr).toBe(4);
    const events = parseNdjson(r.stdout);
    // 210 s of sandbox life minus the 3 minutes kept for collecting: half a minute of the requested 30.
    const note = events.find((e) => e.type === 'phase' && /the agent gets 0\.5 of the requested 30 minutes/.test(String(e.message)));
    expect(String(note?.message)).toMatch(/raise PARALLEL_CC_CF_SANDBOX_TIMEOUT \(seconds\)/);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings.some((w) => w.startsWith('50% of the 0.5-minute timeout used'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('83% of the 0.5-minute timeout used'))).toBe(true);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('timed_out');
    expect(s.commits).toBe(1);
    const sandboxId = await sandboxOf(home, String(s.sessionId));
    expect(cf.emulator().sandboxes().find((b) => b.id === sandboxId)?.containers.at(-1)).toBe('destroyed');
  });

  it('keeps the container awake while the agent works, and follows the agent on when its stream breaks with event: error', async () => {
    cf.emulator().sleepAfter(2500);
    try {
      await cf.serve({ steps: [bash('echo one > one.txt'), bash(`node -e "setTimeout(() => {}, 5000)"`, 60000), bash('echo two > two.txt'), { text: 'all done' }] });
      // The agent's stream (its kept log is agent.out) breaks after its first output.
      cf.emulator().fault({ streamError: 'agent.out' });
      const home = tempDir();
      const repo = makeRepo();
      const r = await run(home, repo, [], { PARALLEL_CC_CF_KEEPALIVE_SECONDS: '0.5' });
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r.stdout);
      expect(s.status).toBe('completed');
      expect(git(repo, 'show', `${String(s.branch)}:two.txt`)).toBe('two');
      expect(parseNdjson(r.stdout).some((e) => e.type === 'result' && e.isError === false)).toBe(true);
      const sandboxId = await sandboxOf(home, String(s.sessionId));
      // One container the whole time (it never slept), and the keep-alive asked for it.
      expect(cf.emulator().sandboxes().find((b) => b.id === sandboxId)?.containers).toEqual(['destroyed']);
      expect(cf.emulator().exchanges.filter((x) => x.path === `/v1/sandbox/${sandboxId}/running`).length).toBeGreaterThan(3);
    } finally {
      cf.emulator().sleepAfter(600_000);
    }
  });

  it('a container that goes to sleep mid-run ends the run saying its files are gone', async () => {
    cf.emulator().sleepAfter(2500);
    try {
      await cf.serve({ steps: [bash('echo one > one.txt'), bash(`node -e "setTimeout(() => {}, 8000)"`, 60000), { text: 'never' }] });
      const home = tempDir();
      // A keep-alive slower than the container's sleep: it dozes off under the agent.
      const r = await run(home, makeRepo(), [], { PARALLEL_CC_CF_KEEPALIVE_SECONDS: '600' });
      expect(r.code, r.stderr).toBe(3);
      const s = summaryOf(r.stdout);
      const sandboxId = await sandboxOf(home, String(s.sessionId));
      expect(s.status).toBe('failed');
      expect(String(s.error)).toBe(`the Cloudflare sandbox ${sandboxId} went to sleep or was destroyed: its container was replaced and every file in it is gone`);
      expect(String((await cf.statusRow(home, String(s.sessionId))).error)).toMatch(/went to sleep/);
      expect(cf.emulator().sandboxes().find((b) => b.id === sandboxId)?.containers[0]).toBe('slept');
      expect(cf.emulator().running()).toBe(0);
    } finally {
      cf.emulator().sleepAfter(600_000);
    }
  });

  it('gives claude its components: an --agent from the catalog is installed in the home every command gets, and claude runs as it', async () => {
    const server = await cf.serve({ steps: [bash("printf 'no findings\\n' > AUDIT.md"), { text: 'audited' }] });
    const catalog = await startCatalog();
    try {
      const home = tempDir();
      const repo = makeRepo({ 'app.js': 'eval(input)\n' });
      const r = await run(home, repo, ['--agent', 'security/security-auditor'], { PARALLEL_CC_COMPONENTS_URL: catalog.url });
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r.stdout);
      expect(JSON.stringify((server.requests.find((q) => q.main)?.body as { system?: unknown } | undefined)?.system ?? '')).toContain('PCC-SECURITY-AUDITOR');
      expect(git(repo, 'show', `${String(s.branch)}:AUDIT.md`)).toBe('no findings');
      expect(git(repo, 'ls-tree', '-r', '--name-only', String(s.branch)).split('\n').filter((p) => p.startsWith('.claude'))).toEqual([]);
    } finally {
      await catalog.close();
    }
  });

  it('fails clearly, with a failed session and no stack trace, on a missing URL, a rejected key and a 502 before the stream; doctor checks /health and the key', async () => {
    await cf.serve({ steps: [{ text: 'done' }] });
    const home = tempDir();
    const cases: Array<{ name: string; env?: NodeJS.ProcessEnv; rotate?: boolean; fault502?: boolean; message: RegExp }> = [
      { name: 'missing URL', env: { CLOUDFLARE_SANDBOX_URL: '' }, message: /CLOUDFLARE_SANDBOX_URL is not set/ },
      { name: 'rejected key (the secret was rotated)', rotate: true, message: /Cloudflare sandbox bridge rejected the API key .*HTTP 401/ },
      { name: '502 before the stream', fault502: true, message: /the Cloudflare sandbox bridge API failed while preparing the sandbox \(HTTP 502\): exec failed: connection reset/ },
    ];
    for (const c of cases) {
      if (c.rotate) cf.emulator().setApiKey('rotated');
      if (c.fault502) cf.emulator().fault({ status: 502, match: /^POST \/v1\/sandbox\/[a-z2-7]+\/exec$/ });
      const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'cloudflare', '--skip-claude-update'], { env: cf.env(home, c.env ?? {}) });
      cf.emulator().setApiKey(cf.key);
      cf.emulator().fault(undefined);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(3);
      expect(r.stderr, c.name).toMatch(c.message);
      expect(r.stderr, c.name).toMatch(/hint: /);
      expect(r.stderr, c.name).not.toMatch(/\n\s+at /);
      const row = await cf.statusRow(home, /^Session\s+([0-9a-f]{8})/m.exec(r.stdout)?.[1] ?? '');
      expect(row.status, c.name).toBe('failed');
    }
    expect(cf.emulator().running()).toBe(0);
    const doctor = async (extra: NodeJS.ProcessEnv): Promise<Array<Record<string, unknown>>> =>
      (JSON.parse((await runCli(['doctor', '--sandbox', '--json'], { env: cf.env(home, { PARALLEL_CC_SANDBOX_PROVIDER: 'cloudflare', ...extra }) })).stdout) as { checks: Array<Record<string, unknown>> }).checks;
    const good = await doctor({});
    expect(good.find((c) => c.name === 'cloudflare bridge /health')).toMatchObject({ ok: true });
    expect(good.find((c) => c.name === 'SANDBOX_API_KEY')).toMatchObject({ ok: true, detail: 'present and accepted by the bridge' });
    const bad = await doctor({ SANDBOX_API_KEY: 'wrong' });
    expect(bad.find((c) => c.name === 'SANDBOX_API_KEY')).toMatchObject({ ok: false, detail: expect.stringMatching(/rejected the API key/) as unknown });
  });
});
