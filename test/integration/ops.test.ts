/**
 * Session operations against real native sessions (real claude binary, scripted model server):
 * status / logs --follow / health / kill from a second process while a run is live, orphan
 * handling after SIGKILL, download with its safety checks, config show, doctor.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const LONG = `node -e "setTimeout(() => {}, 600000)"`;
const KEY = `sk-ant-ops-${'o'.repeat(24)}`;
let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(scenario: Scenario): Promise<{ repo: string; home: string; env: NodeJS.ProcessEnv }> {
  server = await startModelServer({ scenario });
  const repo = makeRepo({ 'README.md': '# r\n', 'src/keep.ts': 'export const a = 1;\n' });
  const home = tempDir('pcc-ops-home-');
  return { repo, home, env: { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1' } };
}

type Json = Record<string, unknown>;
const statusJson = async (env: NodeJS.ProcessEnv, ...extra: string[]): Promise<Json[]> => {
  const r = await runCli(['status', '--json', ...extra], { env });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { repos: Array<{ sessions: Json[] }> };
  return out.repos.flatMap((g) => g.sessions);
};

/** Starts a run that writes a file, then holds the sandbox open; resolves once the agent is waiting. */
async function liveRun(env: NodeJS.ProcessEnv, repo: string): Promise<{ done: ReturnType<typeof startCli>['done']; child: ReturnType<typeof startCli>['child']; id: string }> {
  const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hold', '--json'], { env });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await expect.poll(() => out.includes('setTimeout'), { timeout: 30_000, interval: 100 }).toBe(true);
  const id = String(parseNdjson(out.split('\n').slice(0, -1).join('\n'))[0]?.sessionId);
  return { child, done, id };
}

describe('session operations on live native sessions', () => {
  it('status, logs --follow, health and kill work from another process while a run is live', async () => {
    const { repo, env } = await setup({
      steps: [
        { toolUses: [{ name: 'Write', input: { file_path: '/workspace/src/new.ts', content: 'export const b = 2;\n' } }] },
        { toolUses: [{ name: 'Bash', input: { command: LONG, timeout: 600000 } }] },
      ],
    });
    const run = await liveRun(env, repo);
    const [row] = await statusJson(env);
    expect(row).toMatchObject({ id: run.id, status: 'running', liveness: 'active', provider: 'native', sandboxId: `native-${run.id}`, pid: run.child.pid });

    const follow = startCli(['sandbox', 'logs', '--session-id', run.id, '--follow', '--json'], { env });
    let followed = '';
    follow.child.stdout?.on('data', (d: Buffer) => (followed += d.toString()));
    await expect.poll(() => followed.includes('setTimeout'), { timeout: 10_000, interval: 100 }).toBe(true);

    const health = await runCli(['sandbox', 'health', '--session-id', run.id, '--json'], { env });
    expect(health.code, health.stderr).toBe(0);
    const h = JSON.parse(health.stdout) as Json;
    expect(h.memoryBytes).toBeGreaterThan(0);
    expect(h.uptimeMs).toBeGreaterThan(0);
    expect(h.pids).toBeGreaterThan(0);
    expect(h.memoryLimitBytes).toBe(2 * 1024 ** 3);

    const t0 = Date.now();
    const kill = await runCli(['sandbox', 'kill', '--session-id', run.id, '--keep-worktree', '--json'], { env });
    expect(kill.code, kill.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(JSON.parse(kill.stdout)).toMatchObject({ sessionId: run.id, status: 'killed', how: 'owner-stopped' });
    const owner = await run.done;
    expect(owner.code).toBe(130);
    // logs --follow saw the end and exited by itself.
    const f = await follow.done;
    expect(f.code).toBe(0);
    expect(parseNdjson(followed).some((e) => e.type === 'summary')).toBe(true);
    const [after] = await statusJson(env, '--all');
    expect(after).toMatchObject({ id: run.id, status: 'killed', liveness: 'ended' });
    expect(git(repo, 'show', `parallel-cc/${run.id}:src/new.ts`)).toBe('export const b = 2;');
    // Not active any more: plain status is empty.
    expect(await statusJson(env)).toEqual([]);
    // Killing it again is a clear error.
    const again = await runCli(['sandbox', 'kill', '--session-id', run.id], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not running \(it ended: killed\)/);
  });

  it('after SIGKILL of the owner, status says orphaned and cleanup recovers the work and removes the rest', async () => {
    const { repo, env } = await setup({
      steps: [
        { toolUses: [{ name: 'Bash', input: { command: "echo 'agent work' > work.txt && git add work.txt && git commit -qm 'agent commit'" } }] },
        { toolUses: [{ name: 'Bash', input: { command: LONG, timeout: 600000 } }] },
      ],
    });
    const headBefore = git(repo, 'rev-parse', 'HEAD');
    const statusBefore = git(repo, 'status', '--porcelain');
    const run = await liveRun(env, repo);
    run.child.kill('SIGKILL');
    await run.done;
    const [row] = await statusJson(env);
    expect(row).toMatchObject({ id: run.id, liveness: 'orphaned', status: 'running' });
    const sandboxDir = String(row?.sandboxDir);
    expect(existsSync(join(sandboxDir, 'workspace'))).toBe(true);
    const human = await runCli(['status'], { env });
    expect(human.stdout).toMatch(/orphaned \(was running\)/);

    const dry = await runCli(['cleanup', '--dry-run', '--json'], { env });
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, actions: [expect.objectContaining({ kind: 'session', target: run.id, action: 'would finish' })] });
    expect((await statusJson(env))[0]).toMatchObject({ liveness: 'orphaned' });

    const clean = await runCli(['cleanup', '--json'], { env });
    expect(clean.code, clean.stderr).toBe(0);
    const actions = (JSON.parse(clean.stdout) as { actions: Json[] }).actions;
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'session', target: run.id, action: 'finished' }));
    const [done] = await statusJson(env, '--all');
    expect(done).toMatchObject({ id: run.id, status: 'failed', liveness: 'ended' });
    expect(String(done?.error)).toMatch(/orphaned/);
    // The agent's commit made before the kill is on the branch; the sandbox folder is gone.
    expect(git(repo, 'log', '--format=%s', `${headBefore}..parallel-cc/${run.id}`)).toBe('agent commit');
    expect(existsSync(sandboxDir)).toBe(false);
    // The user's checkout is exactly as it was.
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(git(repo, 'status', '--porcelain')).toBe(statusBefore);
    // A second cleanup finds nothing.
    const second = await runCli(['cleanup', '--json'], { env });
    expect((JSON.parse(second.stdout) as { actions: Json[] }).actions.filter((a) => a.kind === 'session')).toEqual([]);
  });
});

describe('sandbox download', () => {
  it('fetches exactly the changed files, narrows with --filter, and refuses symlinks out and ../ paths', async () => {
    const { repo, env } = await setup({
      steps: [
        {
          toolUses: [
            { name: 'Write', input: { file_path: '/workspace/src/feature.ts', content: 'export const f = 1;\n' } },
            { name: 'Write', input: { file_path: '/workspace/docs/notes.md', content: '# notes\n' } },
          ],
        },
        { toolUses: [{ name: 'Bash', input: { command: 'git rm -q README.md && git add -A && git commit -qm work' } }] },
        { text: 'done' },
      ],
    });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--json', '--verbose'], { env });
    expect(r.code, r.stderr).toBe(0);
    const id = String(parseNdjson(r.stdout)[0]?.sessionId);
    // --verbose: step-by-step [DEBUG] lines on stderr; stdout stays clean NDJSON.
    expect(r.stderr).toMatch(/\[DEBUG\] .*sandbox created: native-/);
    expect(r.stderr).toMatch(/\[DEBUG\] .*collected a series of \d+ bytes in the agent.s sandbox command/);
    expect(r.stdout).not.toContain('[DEBUG]');
    const out = tempDir('pcc-dl-');
    const sel = await runCli(['sandbox', 'download', '--session-id', id, '--output', join(out, 'sel'), '--json'], { env });
    expect(sel.code, sel.stderr).toBe(0);
    expect((JSON.parse(sel.stdout) as { files: string[] }).files.sort()).toEqual(['docs/notes.md', 'src/feature.ts']);
    expect(readFileSync(join(out, 'sel', 'src', 'feature.ts'), 'utf8')).toBe('export const f = 1;\n');
    expect(existsSync(join(out, 'sel', 'README.md'))).toBe(false);
    const ts = await runCli(['sandbox', 'download', '--session-id', id, '--output', join(out, 'ts'), '--filter', '*.ts', '--json'], { env });
    expect((JSON.parse(ts.stdout) as { files: string[] }).files).toEqual(['src/feature.ts']);
    const all = await runCli(['sandbox', 'download', '--session-id', id, '--output', join(out, 'all'), '--all', '--json'], { env });
    expect((JSON.parse(all.stdout) as { files: string[] }).files.sort()).toEqual(['docs/notes.md', 'src/feature.ts', 'src/keep.ts']);

    // A branch that (by any road) holds a symlink to /etc/passwd: refused, nothing written.
    const wt = tempDir('pcc-evil-wt-');
    git(repo, 'worktree', 'add', '-q', '-b', 'evil', join(wt, 'w'), `parallel-cc/${id}`);
    symlinkSync('/etc/passwd', join(wt, 'w', 'passwd-link'));
    git(join(wt, 'w'), 'add', 'passwd-link');
    git(join(wt, 'w'), 'commit', '-qm', 'link');
    git(repo, 'update-ref', `refs/heads/parallel-cc/${id}`, 'evil');
    const evilOut = join(out, 'evil');
    const refused = await runCli(['sandbox', 'download', '--session-id', id, '--output', evilOut], { env });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/refused to download: passwd-link: symlink to an absolute path \(\/etc\/passwd\)/);
    expect(existsSync(evilOut)).toBe(false);
    // A pre-planted symlink inside the output folder is not followed either.
    const planted = join(out, 'planted');
    mkdirSync(planted);
    symlinkSync(tempDir('pcc-outside-'), join(planted, 'src'));
    git(repo, 'update-ref', `refs/heads/parallel-cc/${id}`, 'evil~1');
    const through = await runCli(['sandbox', 'download', '--session-id', id, '--output', planted], { env });
    expect(through.code).toBe(5);
    expect(through.stderr).toMatch(/refusing to write through the symlink/);
    // Session ids are validated before use.
    const bad = await runCli(['sandbox', 'download', '--session-id', '../../etc'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a session id/);
    const missing = await runCli(['sandbox', 'logs', '--session-id', 'deadbeef'], { env });
    expect(missing.code).toBe(6);
  });
});

describe('config show and doctor', () => {
  it('config show names the source of each value; a malformed sandbox.json names file and key', async () => {
    const home = tempDir('pcc-cfg-');
    writeFileSync(join(home, 'sandbox.json'), JSON.stringify({ timeoutMinutes: 30 }));
    const env = { ...process.env, PARALLEL_CC_HOME: home, PARALLEL_CC_NATIVE_ALLOWED_DOMAINS: 'a.example,b.example' };
    const r = await runCli(['config', 'show', '--json'], { env, cwd: home });
    expect(r.code, r.stderr).toBe(0);
    const entries = (JSON.parse(r.stdout) as { entries: Array<{ key: string; value: unknown; source: string }> }).entries;
    expect(entries).toContainEqual({ key: 'timeoutMinutes', value: 30, source: expect.stringContaining('sandbox.json') as unknown });
    expect(entries).toContainEqual({ key: 'providers.native.allowedDomains', value: ['a.example', 'b.example'], source: 'env PARALLEL_CC_NATIVE_ALLOWED_DOMAINS' });
    expect(entries).toContainEqual({ key: 'defaultProvider', value: 'native', source: 'default' });
    writeFileSync(join(home, 'sandbox.json'), JSON.stringify({ providers: { docker: { network: 'wifi' } } }));
    const bad = await runCli(['config', 'show'], { env, cwd: home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sandbox\.json/);
    expect(bad.stderr).toMatch(/providers\.docker\.network/);
    expect(bad.stderr).toMatch(/none.*bridge.*host/);
  });

  it('doctor marks a missing docker ✗/! with a fix, and fails only for required checks', async () => {
    const home = tempDir('pcc-doc-');
    // doctor calls the model API once: the scripted server plays it.
    server = await startModelServer({ scenario: { steps: [] } });
    const noDocker = { ...process.env, PARALLEL_CC_HOME: home, PATH: '/usr/bin:/bin', ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url, DOCKER_HOST: 'unix:///nonexistent.sock', PARALLEL_CC_CLAUDE_BIN: join(process.cwd(), 'node_modules/@anthropic-ai/claude-code-linux-x64/claude') };
    const ok = await runCli(['doctor', '--json'], { env: noDocker });
    const report = JSON.parse(ok.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; required: boolean; fix?: string }> };
    const docker = report.checks.find((c) => c.name === 'docker daemon');
    expect(docker).toMatchObject({ ok: false, required: false });
    expect(docker?.fix).toMatch(/docker/i);
    expect(ok.code, ok.stdout).toBe(0);
    const human = await runCli(['doctor'], { env: noDocker });
    expect(human.stdout).toMatch(/! docker daemon: not reachable\n\s+fix: /);
    // With docker as the provider, the same missing daemon is required: exit 1.
    const asDocker = await runCli(['doctor'], { env: { ...noDocker, PARALLEL_CC_SANDBOX_PROVIDER: 'docker' } });
    expect(asDocker.code).toBe(1);
    expect(asDocker.stdout).toMatch(/✗ docker daemon/);
    expect(readdirSync(home)).toEqual([]);
  });
});
