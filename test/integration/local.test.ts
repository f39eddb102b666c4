/**
 * Local parallel sessions: `claude-parallel` runs the real claude binary (driven by the scripted
 * model server) in the repo, or in a fresh worktree when another session already holds it; releases
 * on exit (unchanged worktrees removed, changed ones kept); and the claim of the main checkout is
 * race-free across 8 wrappers started at once.
 */
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const WRAPPER = fileURLToPath(new URL('../../dist/bin-claude-parallel.js', import.meta.url));
const CLAUDE = fileURLToPath(new URL('../../node_modules/@anthropic-ai/claude-code-linux-x64/claude', import.meta.url));
let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function wrapper(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRAPPER, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const activeLocal = async (env: NodeJS.ProcessEnv): Promise<Array<Record<string, unknown>>> => {
  const r = await runCli(['status', '--json'], { env });
  return (JSON.parse(r.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> }).repos.flatMap((g) => g.sessions).filter((s) => s.kind === 'local');
};

describe('claude-parallel', () => {
  it('gives a second concurrent session its own worktree; keeps only the worktree with changes', async () => {
    server = await startModelServer({ scenario: { steps: [{ delayMs: 2500, toolUses: [{ name: 'Bash', input: { command: 'pwd > agent.txt' } }] }, { text: 'done' }] } });
    const repo = makeRepo({ 'README.md': '# r\n' });
    const home = tempDir('pcc-local-home-');
    const env = {
      ...process.env,
      HOME: tempDir('pcc-local-userhome-'),
      // claude on the host keeps sockets and scratch files in $TMPDIR (cc-socks/, claude-<uid>/) and never removes them.
      TMPDIR: tempDir('pcc-local-tmp-'),
      PARALLEL_CC_HOME: home,
      PARALLEL_CC_CLAUDE_BIN: CLAUDE,
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: `sk-ant-local-${'l'.repeat(20)}`,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    };
    const claudeArgs = ['-p', 'write where you are into agent.txt', '--allowedTools', 'Bash', '--output-format', 'json'];
    const first = wrapper(claudeArgs, { cwd: repo, env });
    await expect.poll(async () => (await activeLocal(env)).length, { timeout: 20_000, interval: 200 }).toBe(1);
    const [second, third] = await Promise.all([
      wrapper(claudeArgs, { cwd: repo, env }),
      // A session that changes nothing (its claude exits at once): its worktree goes away.
      wrapper(['-p', 'change nothing'], { cwd: repo, env: { ...env, PARALLEL_CC_CLAUDE_BIN: '/bin/true' } }),
    ]);
    const a = await first;
    expect(a.code, a.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(third.code).toBe(0);
    expect(second.stderr).toMatch(/another claude session is active in .*; this one works in (\S+) on branch parallel-cc\/[0-9a-f]{8}/);
    expect(third.stderr).toMatch(/removed \S+ \(no changes\)/);
    const kept = /this one works in (\S+) on branch/.exec(second.stderr)?.[1] as string;
    // The first session worked in the repo itself, the second in its worktree (claude's own cwd).
    expect(readFileSync(join(repo, 'agent.txt'), 'utf8').trim()).toBe(repo);
    expect(readFileSync(join(kept, 'agent.txt'), 'utf8').trim()).toBe(kept);
    expect(second.stderr).toMatch(/kept .* \(has uncommitted changes\)/);
    expect(await activeLocal(env)).toEqual([]);
    const worktrees = git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).map((l) => l.slice(9));
    expect(worktrees).toEqual([repo, kept]);
  });

  it('8 wrappers started at once: exactly one gets the main checkout', async () => {
    const repo = makeRepo({ 'README.md': '# r\n' });
    const out = tempDir('pcc-local-out-');
    const fake = join(tempDir('pcc-fake-claude-'), 'claude');
    // Each fake claude waits until all 8 have started (a barrier, not a sleep): on a loaded machine a
    // wrapper may start after another already finished, and then the main checkout is rightly free again.
    writeFileSync(
      fake,
      `#!/bin/sh\npwd > "${out}/$$"\ni=0\nwhile [ "$(ls "${out}" | wc -l)" -lt 8 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n`,
    );
    chmodSync(fake, 0o755);
    const env = { ...process.env, PARALLEL_CC_HOME: tempDir('pcc-local8-'), PARALLEL_CC_CLAUDE_BIN: fake };
    const results = await Promise.all(Array.from({ length: 8 }, () => wrapper([], { cwd: repo, env })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const cwds = readdirSync(out).map((f) => readFileSync(join(out, f), 'utf8').trim());
    expect(cwds).toHaveLength(8);
    expect(cwds.filter((c) => c === repo)).toHaveLength(1);
    expect(new Set(cwds).size).toBe(8);
    // All released; unchanged worktrees removed.
    expect(await activeLocal(env)).toEqual([]);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
  });
});

describe('register / heartbeat / release', () => {
  it('reports a dead owner as stale and lets cleanup release it', async () => {
    const repo = makeRepo();
    const env = { ...process.env, PARALLEL_CC_HOME: tempDir('pcc-reg-') };
    const gone = spawn('true');
    await new Promise((r) => gone.on('close', r));
    const reg = await runCli(['register', '--repo', repo, '--pid', String(gone.pid), '--json'], { env });
    expect(JSON.parse(reg.stdout)).toMatchObject({ mode: 'main', path: repo });
    const [row] = await activeLocal(env);
    expect(row).toMatchObject({ liveness: 'stale', pid: gone.pid });
    const hb = await runCli(['heartbeat', '--pid', '999999', '--json'], { env });
    expect(JSON.parse(hb.stdout)).toEqual({ sessionId: null });
    const clean = await runCli(['cleanup', '--json'], { env });
    expect((JSON.parse(clean.stdout) as { actions: Array<Record<string, unknown>> }).actions).toContainEqual(expect.objectContaining({ kind: 'session', action: 'finished' }));
    expect(await activeLocal(env)).toEqual([]);
    const bad = await runCli(['release', '--pid', 'abc'], { env });
    expect(bad.code).toBe(2);
  });
});
