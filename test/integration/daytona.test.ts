/**
 * The Daytona provider end to end: the CLI → the real `@daytonaio/sdk` → the local Daytona emulator
 * (main API + toolbox API, WebSocket log follow) → a bubblewrap sandbox per Daytona sandbox → the
 * real claude binary → the scripted model server. Covers the spine scenario, what is (not) uploaded
 * and where the model key goes, timeouts, `--multi`, a sandbox that stops itself and API failures
 * (a CLI killed mid-run: daytona-reattach.test.ts; auto-stop: daytona-lifecycle.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli, startCli, summaryOf } from '../helpers/cli.js';
import { tarEntries } from '../helpers/cloud.js';
import { bash, DAYTONA_MODEL_KEY, useDaytona } from '../helpers/daytona.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { runSpine, SPINE_SCENARIO } from '../helpers/spine.js';

const d = useDaytona();

describe('daytona provider (real SDK against the local Daytona emulator)', () => {
  it('runs the spine scenario (runSpine) with labels, target and an auto-delete, estimates the cost and deletes the sandbox', async () => {
    await d.serve(SPINE_SCENARIO);
    const spine = await runSpine({ provider: 'daytona', env: d.env(tempDir()), args: ['--skip-claude-update', '--daytona-target', 'eu'] });
    const [run, out] = [spine.summary, spine.stdout];
    const sbx = d.sandboxOf(String(run.sessionId));
    expect(sbx).toMatchObject({ state: 'destroyed', target: 'eu', autoStopInterval: 15, autoDeleteInterval: 120, labels: { 'parallel-cc.session': run.sessionId, 'parallel-cc.repo': run.repo } });
    // 1 vCPU, 1 GiB, 3 GiB disk at Daytona's per-second prices: $0.066924 an hour, billed per second.
    expect(parseNdjson(out).some((e) => e.type === 'cost' && e.usdPerHour === 0.066924)).toBe(true);
    expect(run.sandboxCostUsd).toBeGreaterThan(0);
    expect(run.sandboxCostUsd).toBeLessThan(0.066924 / 60);
    // The agent ran in a session of its own, started with runAsync and followed over a WebSocket.
    const reqs = d.emulator().requests.filter((q) => q.sandboxId === sbx?.id);
    expect(reqs.some((q) => q.method === 'WS' && /\/process\/session\/pcc-[0-9a-f]+\/command\/[^/]+\/logs$/.test(q.path))).toBe(true);
    const execs = reqs.filter((q) => q.path.endsWith('/exec')).map((q) => JSON.parse(q.body.toString()) as { runAsync?: boolean; command?: string });
    expect(execs.some((e) => e.runAsync === true && /claude/.test(String(e.command)))).toBe(true);
  });

  it('uploads one tarball without secrets or ignored files; the model key reaches only the agent env, over the session input with echo off', async () => {
    const server = await d.serve({ steps: [bash('ls -a; cat .env 2>&1; cat ~/.daytona/sessions/*/*/cmd.sh ~/.daytona/sessions/*/*/output.log 2>&1 | tr -d "\\001\\002"; cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "; printenv | grep -c "^ANTHROPIC_API_KEY=sk-ant-dtn"; true'), { text: 'done' }] });
    const repo = makeRepo({ 'src/app.js': 'console.log(1)\n', '.gitignore': 'node_modules/\n', '.e2bignore': 'internal/\n' });
    writeFiles(repo, { '.env': 'ENV_SECRET=1\n', id_rsa: 'SSH KEY\n', 'cert.pem': 'PEM\n', '.aws/credentials': '[default]\n', 'internal/tokens.json': '{}\n', 'node_modules/dep/index.js': 'x\n', 'untracked.txt': 'new work\n' });
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'look', '--provider', 'daytona', '--skip-claude-update', '--no-cleanup', '--json'], { env: d.env(home) });
    expect(r.code, r.stderr).toBe(0);
    const id = String(summaryOf(r.stdout).sessionId);
    const sbx = d.sandboxOf(id);
    const emu = d.emulator();
    const uploads = emu.records.uploads.filter((u) => u.sandboxId === sbx?.id && u.path.endsWith('.tar.gz'));
    expect(uploads).toHaveLength(1);
    expect(await tarEntries(uploads[0]?.data ?? Buffer.alloc(0))).toEqual(['.e2bignore', '.gitignore', 'src/app.js', 'untracked.txt']);
    // Nothing the emulator received carries the key as it is; it came once per command, base64, as input.
    const b64 = Buffer.from(DAYTONA_MODEL_KEY).toString('base64');
    for (const q of emu.requests) expect(q.body.toString('utf8')).not.toContain(DAYTONA_MODEL_KEY);
    expect(JSON.stringify(sbx?.env)).not.toContain(DAYTONA_MODEL_KEY);
    const withKey = emu.records.inputs.filter((i) => i.data.includes(b64));
    expect(withKey.length).toBeGreaterThanOrEqual(1);
    for (const i of withKey) expect(emu.records.commands.find((c) => c.sessionId === i.sessionId)?.suppressInputEcho).toBe(true);
    // What the agent saw: no secret files, no key in a session file, a log or a command line — only its env has it.
    const seen = server.toolResults().map((t) => t.content).join('\n');
    expect(seen).toContain('untracked.txt');
    expect(seen).not.toMatch(/ENV_SECRET|id_rsa|cert\.pem/);
    expect(seen).not.toContain(DAYTONA_MODEL_KEY);
    expect(seen).not.toContain(b64);
    expect(seen.trim().endsWith('1')).toBe(true);
    // --no-cleanup kept the sandbox; cleanup finds it by its labels and deletes it.
    expect(d.sandboxOf(id)?.state).toBe('started');
    const cleanup = await runCli(['cleanup', '--json'], { env: d.env(home) });
    expect((JSON.parse(cleanup.stdout) as { actions: unknown[] }).actions).toContainEqual(expect.objectContaining({ kind: 'sandbox', target: sbx?.id, action: 'removed' }));
    expect(d.sandboxOf(id)?.state).toBe('destroyed');
  });

  it('warns at 50% and 83% of the timeout and deletes the sandbox at 100%, keeping the work so far', async () => {
    await d.serve({ steps: [bash('echo work > w.txt'), bash(`node -e "setTimeout(() => {}, 600000)"`, 600000)] });
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 't', '--provider', 'daytona', '--skip-claude-update', '--timeout', '0.15', '--json'], { env: d.env(tempDir()) });
    expect(r.code, r.stderr).toBe(4);
    const warnings = parseNdjson(r.stdout).filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings.some((w) => w.startsWith('50% of the 0.15-minute timeout used'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('83% of the 0.15-minute timeout used'))).toBe(true);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('timed_out');
    expect(s.commits).toBe(1);
    expect(d.sandboxOf(String(s.sessionId))?.state).toBe('destroyed');
  });

  it('runs --multi: 4 tasks, 2 at a time, each in its own Daytona sandbox', async () => {
    await d.serve({ steps: [bash('echo "$RANDOM" > "out-$RANDOM.txt"'), { text: 'done' }] });
    const repo = makeRepo();
    const out = tempDir();
    const tasks = ['one', 'two', 'three', 'four'].flatMap((t) => ['--task', t]);
    const r = await runCli(['sandbox', 'run', '--multi', '--repo', repo, ...tasks, '--max-concurrent', '2', '--provider', 'daytona', '--skip-claude-update', '--output-dir', out], { env: d.env(tempDir()) });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ status: string; branch: string; sessionId: string }> };
    expect(summary.tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    for (const t of summary.tasks) {
      expect(git(repo, 'log', '--format=%s', `main..${t.branch}`)).toBe('parallel-cc: uncommitted work');
      expect(d.sandboxOf(t.sessionId)?.state).toBe('destroyed');
    }
    expect(new Set(summary.tasks.map((t) => d.sandboxOf(t.sessionId)?.id)).size).toBe(4);
  });

  it('--budget-per-task stops a Daytona task whose cost passes it (over_budget) and deletes its sandbox', async () => {
    await d.serve({ steps: [{ toolUses: [{ name: 'Bash', input: { command: `node -e "setTimeout(() => {}, 600000)"`, timeout: 600000 } }], usage: { input_tokens: 60_000, output_tokens: 10 } }] });
    const out = tempDir();
    const started = Date.now();
    const r = await runCli(['sandbox', 'run', '--multi', '--repo', makeRepo(), '--task', 'expensive', '--budget-per-task', '0.05', '--provider', 'daytona', '--skip-claude-update', '--output-dir', out, '--json'], { env: d.env(tempDir()) });
    expect(r.code, r.stderr).toBe(1);
    expect(Date.now() - started).toBeLessThan(45_000);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ status: string; sessionId: string }> };
    expect(summary.tasks.map((t) => t.status)).toEqual(['over_budget']);
    expect(d.sandboxOf(summary.tasks[0]?.sessionId ?? '')?.state).toBe('destroyed');
  });

  it('a sandbox that stops mid-run ends the run with that reason, without hanging', async () => {
    await d.serve({ steps: [bash('echo work > w.txt'), bash(`node -e "setTimeout(() => {}, 600000)"`, 600000)] });
    const home = tempDir();
    const { child, done } = startCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'daytona', '--skip-claude-update', '--json'], { env: d.env(home) });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    await expect.poll(() => out.includes('setTimeout'), { timeout: 60_000, interval: 100 }).toBe(true);
    const id = String(parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1)).find((e) => typeof e.sessionId === 'string')?.sessionId);
    const sandboxId = d.sandboxOf(id)?.id ?? '';
    d.emulator().stopSandbox(sandboxId);
    const r = await done;
    expect(r.code, r.stderr).toBe(3);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('failed');
    expect(String(s.error)).toBe(`the Daytona sandbox ${sandboxId} is stopped: it was stopped or deleted while the command ran`);
    expect((await d.statusRow(home, id)).status).toBe('failed');
  });

  it('Ctrl-C mid-run stops the agent, keeps the work so far and deletes the sandbox (exit 130)', async () => {
    await d.serve({ steps: [bash('echo work > w.txt && git add -A && git commit -qm "agent: w"'), bash(`node -e "setTimeout(() => {}, 600000)"`, 600000)] });
    const repo = makeRepo();
    const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--provider', 'daytona', '--skip-claude-update', '--json'], { env: d.env(tempDir()) });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    await expect.poll(() => out.includes('setTimeout'), { timeout: 60_000, interval: 100 }).toBe(true);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    const s = summaryOf(r.stdout);
    expect(git(repo, 'show', `${String(s.branch)}:w.txt`)).toBe('work');
    expect(d.sandboxOf(String(s.sessionId))?.state).toBe('destroyed');
  });

  it('fails clearly, with a failed session and no stack trace, on a missing or rejected key, a 500 and a hanging API', async () => {
    await d.serve({ steps: [{ text: 'done' }] });
    const home = tempDir();
    const cases: Array<{ name: string; env: NodeJS.ProcessEnv; fault?: number | 'hang'; message: RegExp }> = [
      { name: 'missing key', env: { DAYTONA_API_KEY: '' }, message: /DAYTONA_API_KEY is not set/ },
      { name: 'rejected key', env: { DAYTONA_API_KEY: `dtn_${'x'.repeat(64)}` }, message: /Daytona rejected the API key .*HTTP 401/ },
      { name: 'HTTP 500', env: {}, fault: 500, message: /the Daytona API failed while .*HTTP 500/ },
      { name: 'hang', env: { PARALLEL_CC_DAYTONA_REQUEST_TIMEOUT: '2' }, fault: 'hang', message: /the Daytona API did not answer in time/ },
    ];
    const doctor = async (extra: NodeJS.ProcessEnv): Promise<Array<Record<string, unknown>>> => (JSON.parse((await runCli(['doctor', '--json'], { env: d.env(home, extra) })).stdout) as { checks: Array<Record<string, unknown>> }).checks;
    const good = await doctor({});
    expect(good.find((c) => c.name === 'DAYTONA_API_KEY')).toMatchObject({ ok: true, detail: 'present and accepted by the Daytona API' });
    expect(String(good.find((c) => c.name === 'daytona key protection')?.detail)).toMatch(/agent process gets the real API key as an env var only .*never a file, a command line/);
    expect((await doctor({ DAYTONA_API_KEY: `dtn_${'x'.repeat(64)}` })).find((c) => c.name === 'DAYTONA_API_KEY')).toMatchObject({ ok: false, detail: expect.stringMatching(/Daytona rejected the API key/) as unknown });
    for (const c of cases) {
      d.emulator().fault(c.fault);
      const started = Date.now();
      const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'daytona'], { env: d.env(home, c.env) });
      d.emulator().fault(undefined);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(3);
      expect(Date.now() - started, c.name).toBeLessThan(45_000);
      expect(r.stderr, c.name).toMatch(c.message);
      expect(r.stderr, c.name).toMatch(/hint: /);
      expect(r.stderr, c.name).not.toMatch(/\n\s+at /);
      const row = await d.statusRow(home, /^Session\s+([0-9a-f]{8})/m.exec(r.stdout)?.[1] ?? '');
      expect(row.status, c.name).toBe('failed');
      expect(String(row.error), c.name).toMatch(c.message);
      expect(typeof row.worktreePath === 'string' && existsSync(row.worktreePath), c.name).toBe(false);
    }
  });
});
