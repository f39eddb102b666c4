/**
 * The E2B provider end to end: the CLI → the real `e2b` SDK → the local E2B emulator (real HTTP
 * protocols) → a bubblewrap sandbox per E2B sandbox → the real claude binary → the scripted model
 * server. Covers the spine scenario, what is (not) uploaded, `claude update`, timeouts, cost,
 * `--multi` and API failures (a CLI killed mid-run: e2b-reattach.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli, startCli, summaryOf } from '../helpers/cli.js';
import { tarEntries } from '../helpers/cloud.js';
import { bash, E2B_KEY, useE2B } from '../helpers/e2b.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { runSpine, SPINE_SCENARIO } from '../helpers/spine.js';

const e2b = useE2B();

describe('e2b provider (real SDK against the local E2B emulator)', () => {
  it('runs the spine scenario to the same branch contents as native, updates claude first, estimates the sandbox cost and kills the sandbox', async () => {
    await e2b.serve(SPINE_SCENARIO);
    const home = tempDir();
    const { summary: e2bRun, stdout: e2bOut } = await runSpine({ provider: 'e2b', env: e2b.env(home) });
    const id = String(e2bRun.sessionId);
    // claude update ran in the sandbox before the agent, and the log says so (offline it fails: a warning).
    const sbx = e2b.sandboxOf(id);
    expect(sbx?.templateId).toBe('anthropic-claude-code');
    expect(e2b.emulator().commands.filter((c) => c.sandboxId === sbx?.sandboxId).some((c) => /claude update/.test(c.cmd))).toBe(true);
    const events = parseNdjson(e2bOut);
    expect(events.some((e) => e.type === 'phase' && /running claude update/.test(String(e.message)))).toBe(true);
    expect(events.some((e) => (e.type === 'warning' && /Claude update failed/.test(String(e.message))) || (e.type === 'phase' && /claude update: /.test(String(e.message))))).toBe(true);
    // $0.10/hour per second with a one-minute minimum: a short run costs the minimum, live and stored.
    expect(e2bRun.sandboxCostUsd).toBeCloseTo(0.1 / 60, 6);
    expect(events.some((e) => e.type === 'cost' && e.usdPerHour === 0.1)).toBe(true);
    expect((await e2b.statusRow(home, id)).sandboxCostUsd).toBeCloseTo(0.1 / 60, 6);
    expect(sbx && e2b.emulator().sandboxes().find((s) => s.sandboxId === sbx.sandboxId)?.state).toBe('killed');
  });

  it('uploads one tarball without secrets, .gitignore or .e2bignore matches; --skip-claude-update skips the update; --no-cleanup keeps the sandbox until cleanup', async () => {
    const server = await e2b.serve({ steps: [bash('ls -a; cat .env 2>&1; true'), { text: 'done' }] });
    // 6 MB that does not compress: the upload reports its progress.
    const repo = makeRepo({ 'src/app.js': 'console.log(1)\n', '.gitignore': 'node_modules/\n', '.e2bignore': 'internal/\n', 'assets/noise.bin': randomBytes(6 * 1024 * 1024) });
    writeFiles(repo, {
      '.env': 'ENV_SECRET=1\n',
      '.env.local': 'ENV_LOCAL=1\n',
      id_rsa: 'SSH KEY\n',
      'cert.pem': 'PEM\n',
      'config/service.key': 'KEY\n',
      '.aws/credentials': '[default]\n',
      'internal/tokens.json': '{}\n',
      'node_modules/dep/index.js': 'x\n',
      'untracked.txt': 'new work\n',
    });
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'look', '--provider', 'e2b', '--skip-claude-update', '--no-cleanup', '--json'], { env: e2b.env(home) });
    expect(r.code, r.stderr).toBe(0);
    const id = String(summaryOf(r.stdout).sessionId);
    const sbx = e2b.sandboxOf(id);
    const uploads = e2b.emulator().uploads.filter((u) => u.sandboxId === sbx?.sandboxId && u.path.endsWith('.tar.gz'));
    expect(uploads).toHaveLength(1);
    const names = await tarEntries(uploads[0]?.data ?? Buffer.alloc(0));
    expect(names).toEqual(['.e2bignore', '.gitignore', 'assets/noise.bin', 'src/app.js', 'untracked.txt']);
    const progress = parseNdjson(r.stdout).filter((e) => e.type === 'phase' && /^uploaded [\d.]+ of 6\.0 MB \(\d+%\)$/.test(String(e.message)));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    // What the agent could see in the sandbox agrees.
    const listing = server.toolResults().map((t) => t.content).join('\n');
    expect(listing).toContain('untracked.txt');
    expect(listing).not.toMatch(/ENV_SECRET|id_rsa|cert\.pem/);
    expect(e2b.emulator().commands.filter((c) => c.sandboxId === sbx?.sandboxId).some((c) => /claude update/.test(c.cmd))).toBe(false);
    expect(r.stdout).not.toMatch(/running claude update/);
    // --no-cleanup kept the sandbox; cleanup finds it by its labels and removes it.
    expect(e2b.sandboxOf(id)?.state).toBe('running');
    const cleanup = await runCli(['cleanup', '--json'], { env: e2b.env(home) });
    expect((JSON.parse(cleanup.stdout) as { actions: unknown[] }).actions).toContainEqual(expect.objectContaining({ kind: 'sandbox', target: sbx?.sandboxId, action: 'removed' }));
    expect(e2b.sandboxOf(id)?.state).toBe('killed');
  });

  it('warns at 50% and 83% of the timeout and kills the sandbox at 100%', async () => {
    await e2b.serve({ steps: [bash('echo work > w.txt'), bash(`node -e "setTimeout(() => {}, 600000)"`, 600000)] });
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 't', '--provider', 'e2b', '--skip-claude-update', '--timeout', '0.15', '--json'], { env: e2b.env(home) });
    expect(r.code, r.stderr).toBe(4);
    const events = parseNdjson(r.stdout);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings.some((w) => w.startsWith('50% of the 0.15-minute timeout used'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('83% of the 0.15-minute timeout used'))).toBe(true);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('timed_out');
    expect(s.commits).toBe(1); // the work so far (w.txt) is kept
    expect(e2b.sandboxOf(String(s.sessionId))?.state).toBe('killed');
  });

  it('runs --multi tasks each in its own E2B sandbox; task costs include the sandbox time', async () => {
    await e2b.serve({ steps: [bash('echo "$RANDOM" > "out-$RANDOM.txt"'), { text: 'done' }] });
    const repo = makeRepo();
    const out = tempDir();
    const r = await runCli(['sandbox', 'run', '--multi', '--repo', repo, '--task', 'one', '--task', 'two', '--task', 'three', '--provider', 'e2b', '--skip-claude-update', '--output-dir', out], { env: e2b.env(tempDir()) });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ status: string; branch: string; sessionId: string; costUsd: number }> };
    expect(summary.tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    for (const t of summary.tasks) {
      expect(git(repo, 'log', '--format=%s', `main..${t.branch}`)).toBe('parallel-cc: uncommitted work');
      // The model's scripted cost plus at least E2B's one-minute minimum.
      expect(t.costUsd).toBeGreaterThan(0.1 / 60);
      expect(e2b.sandboxOf(t.sessionId)?.state).toBe('killed');
    }
    expect(new Set(summary.tasks.map((t) => e2b.sandboxOf(t.sessionId)?.sandboxId)).size).toBe(3);
  });

  it('a sandbox killed from outside mid-run (or by its E2B timeout) ends the run with that reason, without hanging', async () => {
    await e2b.serve({ steps: [bash('echo work > w.txt'), bash(`node -e "setTimeout(() => {}, 600000)"`, 600000)] });
    const home = tempDir();
    const { child, done } = startCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'e2b', '--skip-claude-update', '--json'], { env: e2b.env(home) });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out.includes('setTimeout'), { timeout: 60_000, interval: 100 }).toBe(true);
    const id = String(parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1)).find((e) => typeof e.sessionId === 'string')?.sessionId);
    const sandboxId = e2b.sandboxOf(id)?.sandboxId ?? '';
    const killed = await fetch(`${e2b.emulator().apiUrl}/sandboxes/${sandboxId}`, { method: 'DELETE', headers: { 'X-API-KEY': E2B_KEY } });
    expect(killed.status).toBe(204);
    const r = await done;
    expect(r.code, r.stderr).toBe(3);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('failed');
    expect(String(s.error)).toBe(`the E2B sandbox ${sandboxId} is gone: it was killed or its E2B timeout passed`);
    expect((await e2b.statusRow(home, id)).status).toBe('failed');
  });

  it('fails clearly, with a failed session and no stack trace, on a missing or rejected key, a 500 and a hanging API', async () => {
    await e2b.serve({ steps: [{ text: 'done' }] });
    const home = tempDir();
    const cases: Array<{ name: string; env: NodeJS.ProcessEnv; fault?: number | 'hang'; message: RegExp }> = [
      { name: 'missing key', env: { E2B_API_KEY: '' }, message: /E2B_API_KEY is not set/ },
      { name: 'rejected key', env: { E2B_API_KEY: `e2b_${'x'.repeat(32)}` }, message: /E2B rejected the API key .*HTTP 401/ },
      { name: 'HTTP 500', env: {}, fault: 500, message: /the E2B API failed while .*HTTP 500/ },
      { name: 'hang', env: { PARALLEL_CC_E2B_REQUEST_TIMEOUT: '2' }, fault: 'hang', message: /the E2B API did not answer in time/ },
    ];
    // doctor makes the same authenticated call: a good key is accepted, a revoked one is named.
    const doctor = async (extra: NodeJS.ProcessEnv): Promise<Record<string, unknown> | undefined> =>
      (JSON.parse((await runCli(['doctor', '--json'], { env: e2b.env(home, extra) })).stdout) as { checks: Array<Record<string, unknown>> }).checks.find((c) => c.name === 'E2B_API_KEY');
    expect(await doctor({})).toMatchObject({ ok: true, detail: 'present and accepted by the E2B API' });
    expect(await doctor({ E2B_API_KEY: `e2b_${'x'.repeat(32)}` })).toMatchObject({ ok: false, detail: expect.stringMatching(/E2B rejected the API key/) as unknown });
    for (const c of cases) {
      e2b.emulator().fault(c.fault);
      const started = Date.now();
      const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'e2b'], { env: e2b.env(home, c.env) });
      e2b.emulator().fault(undefined);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(3);
      expect(Date.now() - started, c.name).toBeLessThan(45_000);
      expect(r.stderr, c.name).toMatch(c.message);
      expect(r.stderr, c.name).toMatch(/hint: /);
      expect(r.stderr, c.name).not.toMatch(/\n\s+at /);
      expect(r.stdout, c.name).toMatch(/^Session\s+[0-9a-f]{8} FAILED$/m);
      const row = await e2b.statusRow(home, /^Session\s+([0-9a-f]{8})/m.exec(r.stdout)?.[1] ?? '');
      expect(row.status, c.name).toBe('failed');
      expect(String(row.error), c.name).toMatch(c.message);
      expect(typeof row.worktreePath === 'string' && existsSync(row.worktreePath), c.name).toBe(false);
    }
  });
});
