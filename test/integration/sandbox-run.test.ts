import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { runSpine, SPINE_SCENARIO } from '../helpers/spine.js';
import { registryRows } from '../helpers/registry.js';

// Claude Code refuses a bare `sleep 600`; a node timer is a long-running command it accepts.
const LONG_COMMAND = `node -e "setTimeout(() => {}, 600000)"`;
const REAL_KEY = `sk-ant-real-${'k'.repeat(24)}`;
let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(scenario: Scenario): Promise<{ repo: string; home: string; env: NodeJS.ProcessEnv }> {
  server = await startModelServer({ scenario });
  const repo = makeRepo({ 'keep.txt': 'keep me\n', 'obsolete.txt': 'old\n', 'tool.sh': 'echo tool\n', '.gitignore': 'node_modules/\n' });
  const home = tempDir('pcc-home-');
  const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
  return { repo, home, env };
}

const sessionRows = registryRows;

const summaryOf = (stdout: string): Record<string, unknown> => {
  const line = parseNdjson(stdout).find((e) => e.type === 'summary');
  return (line?.summary ?? {}) as Record<string, unknown>;
};

describe('sandbox run on the native provider with the real claude binary', () => {
  it('brings back the agent\'s commits plus its uncommitted work, byte for byte (the spine)', async () => {
    server = await startModelServer({ scenario: SPINE_SCENARIO });
    const home = tempDir('pcc-home-');
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
    const { summary: s, repo } = await runSpine({ provider: 'native', env });
    const branch = String(s.branch);
    expect(branch).toMatch(/^parallel-cc\/[0-9a-f]{8}$/);
    expect(readFileSync(join(String(s.worktree), 'notes.md'), 'utf8')).toBe('uncommitted ✓ notes\r\nline 2\n');
    // The worktree is checked out at the branch tip and clean.
    expect(git(String(s.worktree), 'rev-parse', 'HEAD')).toBe(git(repo, 'rev-parse', branch));
    expect(git(String(s.worktree), 'status', '--porcelain')).toBe('');
    // The registry has the whole story.
    const [row] = sessionRows(home);
    expect(row).toMatchObject({ status: 'completed', branch, exitCode: 0, commits: 2, provider: 'native' });
    expect(row?.costUsd).toBeGreaterThan(0);
    expect(row?.inputTokens).toBeGreaterThan(0);
    expect(row?.outputTokens).toBeGreaterThan(0);
    expect(row?.sandboxId).toMatch(/^native-/);
    // The real key went to the model server, never into the sandbox.
    expect(server?.requests.some((q) => q.headers['x-api-key'] === REAL_KEY)).toBe(true);
  });

  it('carries the user\'s uncommitted work into the sandbox, minus secrets', async () => {
    const { repo, env } = await setup({ steps: [{ toolUses: [{ name: 'Bash', input: { command: 'ls -A; cat keep.txt' } }] }, { text: 'ok' }] });
    writeFiles(repo, { 'keep.txt': 'edited but not committed\n', 'untracked.txt': 'new\n', '.env': 'SECRET=1\n', 'node_modules/x.js': 'ignored\n' });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'look', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const [listing] = server?.toolResults() ?? [];
    expect(listing?.content).toContain('untracked.txt');
    expect(listing?.content).toContain('edited but not committed');
    expect(listing?.content).not.toMatch(/\.env|node_modules/);
  });

  it('passes the prompt through byte-exact, from --prompt and from a 100 KB --prompt-file', async () => {
    const { repo, env } = await setup({ steps: [{ text: 'ok' }] });
    const tricky = `quotes ' " \` $(echo pwned) \${HOME} $HOME\nnew\tline \\n ✓ héllo 日本 🚀\n\n  trailing  `;
    const r1 = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', tricky, '--json'], { env });
    expect(r1.code, r1.stderr).toBe(0);
    const big = `${tricky}\n${'x'.repeat(100 * 1024)}\nend ✓`;
    const file = join(tempDir(), 'PLAN.md');
    writeFileSync(file, big);
    const r2 = await runCli(['sandbox', 'run', '--repo', repo, '--prompt-file', file, '--json'], { env });
    expect(r2.code, r2.stderr).toBe(0);
    expect(server?.prompts()).toEqual([tricky, big]);
  });

  it('keeps the agent inside: no host secrets, no writes outside the workspace, no unlisted network', async () => {
    const hostHome = tempDir('pcc-userhome-');
    writeFiles(hostHome, { '.ssh/id_rsa': 'SSH_KEY_MARKER\n', '.aws/credentials': 'AWS_MARKER\n' });
    const bash = (command: string): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command } }] });
    const { repo, env } = await setup({ steps: [] });
    writeFiles(repo, { '.env': 'ENV_MARKER=1\n', 'id_rsa': 'REPO_KEY_MARKER\n', 'cert.pem': 'PEM_MARKER\n' });
    const hooks = join(repo, '.git', 'hooks');
    const digest = (): string =>
      createHash('sha256')
        .update(readFileSync(join(repo, '.git', 'config')))
        .update(readdirSync(hooks).sort().join(','))
        .digest('hex');
    const before = digest();
    const probes = [
      `cat ${hostHome}/.ssh/id_rsa ~/.ssh/id_rsa ${hostHome}/.aws/credentials; echo rc=$?`,
      `cat .env id_rsa cert.pem ${repo}/.env ${repo}/.git/config; echo rc=$?`,
      `env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c ANTHROPIC_API_KEY; echo rc=$?`,
      `echo x > ../outside.txt; echo x > /tmp/../etc/evil; echo x > ${repo}/.git/hooks/pre-commit; echo x >> ${repo}/.git/config; echo rc=$?`,
      `curl -sS -m 10 https://example.com/ -o /dev/null; echo curl=$?; node -e "require('net').connect(80,'example.com').on('connect',()=>console.log('CONNECTED')).on('error',e=>console.log('neterr',e.code))"`,
    ];
    server?.setScenario({ steps: [...probes.map(bash), { text: 'done' }] });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'probe', '--json'], { env: { ...env, HOME: hostHome } });
    expect(r.code, r.stderr).toBe(0);
    const results = (server?.toolResults() ?? []).map((t) => t.content);
    expect(results).toHaveLength(probes.length);
    const all = results.join('\n');
    for (const marker of ['SSH_KEY_MARKER', 'AWS_MARKER', 'ENV_MARKER', 'REPO_KEY_MARKER', 'PEM_MARKER', REAL_KEY, '[core]']) expect(all).not.toContain(marker);
    expect(results[0]).toMatch(/No such file or directory/);
    expect(results[3]).toMatch(/Read-only file system|No such file or directory|Permission denied/);
    expect(results[4]).toMatch(/403|curl=56|curl=22/);
    expect(results[4]).toMatch(/neterr/);
    expect(results[4]).not.toContain('CONNECTED');
    expect(digest()).toBe(before);
    expect(existsSync(join(repo, '..', 'outside.txt'))).toBe(false);
    const egress = parseNdjson(r.stdout).filter((e) => e.type === 'egress');
    expect(egress).toContainEqual(expect.objectContaining({ host: 'example.com', port: 443, allowed: false }));
    // `sandbox logs --egress` lists the attempts (time, host:port, verdict) from the session's egress log.
    const id = String(parseNdjson(r.stdout)[0]?.sessionId);
    const log = await runCli(['sandbox', 'logs', '--session-id', id, '--egress'], { env });
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ +CONNECT example\.com:443 +DENIED \(not in allowlist\)$/m);
    const logJson = await runCli(['sandbox', 'logs', '--session-id', id, '--egress', '--json'], { env });
    expect(parseNdjson(logJson.stdout)).toContainEqual(expect.objectContaining({ host: 'example.com', port: 443, allowed: false, bytesUp: 0 }));
  });

  it('lets the agent reach allowlisted hosts (env and --allow-domain) through the proxy, and logs with --local-log/--no-stream', async () => {
    const site = http.createServer((_req, res) => res.end('ALLOWED_SITE_BODY'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const port = (site.address() as AddressInfo).port;
    try {
      const curl = (host: string): string => `curl -sS -m 10 --noproxy '' http://${host}:${port}/; echo " curl=$?"`;
      const { repo, env } = await setup({
        steps: [{ toolUses: [{ name: 'Bash', input: { command: curl('localhost') } }] }, { toolUses: [{ name: 'Bash', input: { command: curl('127.0.0.1') } }] }, { text: 'ok' }],
      });
      const logFile = join(tempDir(), 'run.ndjson');
      // host:port: an entry without a port would open 443 and 80 only.
      const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'fetch', '--allow-domain', `127.0.0.1:${port}`, '--no-stream', '--local-log', logFile], {
        env: { ...env, PARALLEL_CC_NATIVE_ALLOWED_DOMAINS: `localhost:${port}` },
      });
      expect(r.code, r.stderr).toBe(0);
      const [viaEnv, viaFlag] = (server?.toolResults() ?? []).map((t) => t.content);
      expect(viaEnv).toContain('ALLOWED_SITE_BODY');
      expect(viaFlag).toContain('ALLOWED_SITE_BODY');
      // --no-stream: the summary only, no live tool lines.
      expect(r.stdout).not.toContain('→ Bash');
      expect(r.stdout).toMatch(/COMPLETED/);
      const logged = parseNdjson(readFileSync(logFile, 'utf8'));
      expect(logged.map((e) => e.type)).toEqual(expect.arrayContaining(['tool_use', 'tool_result', 'egress', 'summary']));
      expect(logged).toContainEqual(expect.objectContaining({ type: 'egress', host: 'localhost', port, allowed: true }));
    } finally {
      site.close();
    }
  });

  it('stops the agent at --timeout, records timed_out and keeps the work so far', async () => {
    const { repo, home, env } = await setup({
      steps: [
        { toolUses: [{ name: 'Write', input: { file_path: '/workspace/before-sleep.txt', content: 'written before the timeout\n' } }] },
        { toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND, timeout: 600000 } }] },
        { text: 'never reached' },
      ],
    });
    const t0 = Date.now();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'sleep', '--timeout', '0.1', '--json'], { env });
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.code).toBe(4);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('timed_out');
    const warnings = parseNdjson(r.stdout).filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings).toEqual([expect.stringMatching(/^50% of the 0.1-minute timeout/), expect.stringMatching(/^83% of the 0.1-minute timeout/)]);
    expect(git(repo, 'show', `${String(s.branch)}:before-sleep.txt`)).toBe('written before the timeout');
    expect(sessionRows(home)[0]?.status).toBe('timed_out');
  });

  it('records killed on Ctrl-C, keeping the work so far', async () => {
    const { repo, home, env } = await setup({
      steps: [
        { toolUses: [{ name: 'Write', input: { file_path: '/workspace/early.txt', content: 'early\n' } }] },
        { toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND, timeout: 600000 } }] },
      ],
    });
    const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'sleep', '--json'], { env });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out.includes('setTimeout'), { timeout: 30_000, interval: 100 }).toBe(true);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('killed');
    expect(git(repo, 'show', `${String(s.branch)}:early.txt`)).toBe('early');
    expect(sessionRows(home)[0]?.status).toBe('killed');
  });
});

describe('sandbox run --dry-run and output formats', () => {
  it('lists excluded secrets and creates nothing', async () => {
    const repo = makeRepo({ 'src/a.ts': 'x\n', '.gitignore': '.env\n' });
    writeFiles(repo, { '.env': 'S=1\n', 'id_rsa': 'k\n', 'keys/cert.pem': 'c\n', 'new.ts': 'n\n' });
    const home = join(tempDir(), 'never-created');
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--dry-run', '--json'], { env: { ...process.env, PARALLEL_CC_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    const [plan] = parseNdjson(r.stdout);
    expect((plan?.files as Array<{ path: string }>).map((f) => f.path)).toEqual(['.gitignore', 'new.ts', 'src/a.ts']);
    expect(plan?.excluded).toEqual(expect.arrayContaining([{ path: '.env', reason: 'secret' }, { path: 'id_rsa', reason: 'secret' }, { path: 'keys/cert.pem', reason: 'secret' }]));
    expect(existsSync(home)).toBe(false);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
    const human = await runCli(['sandbox', 'run', '--repo', repo, '--dry-run'], { env: { ...process.env, PARALLEL_CC_HOME: home } });
    expect(human.stdout).toMatch(/- \.env \(secret\)/);
    expect(human.stdout).toMatch(/- keys\/cert\.pem \(secret\)/);
  });

  it('prints readable human output without escape codes when not on a TTY, and valid NDJSON with --json', async () => {
    const { repo, env } = await setup({ steps: [{ toolUses: [{ name: 'Bash', input: { command: 'echo hi > hi.txt' } }] }, { text: 'all done' }] });
    delete env.NO_COLOR;
    const human = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hi'], { env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout + human.stderr).not.toMatch(new RegExp(`${String.fromCharCode(27)}\\[`));
    expect(human.stdout).toContain('→ Bash echo hi > hi.txt');
    expect(human.stdout).toMatch(/Session\s+[0-9a-f]{8} COMPLETED/);
    const json = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hi', '--json'], { env });
    const events = parseNdjson(json.stdout);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['init', 'tool_use', 'tool_result', 'result', 'summary']));
    expect(events.every((e) => typeof e.ts === 'string' && typeof e.sessionId === 'string')).toBe(true);
  });

  it('rejects bad input with exit code 2 before creating anything', async () => {
    const repo = makeRepo();
    const home = join(tempDir(), 'h');
    const env = { ...process.env, PARALLEL_CC_HOME: home };
    for (const args of [
      ['--timeout', '61m'],
      ['--timeout', '3601'],
      ['--timeout', 'abc'],
      ['--provider', 'nope'],
      ['--prompt', 'a', '--prompt-file', 'b'],
      ['--prompt', ''],
    ]) {
      const r = await runCli(['sandbox', 'run', '--repo', repo, ...(args.includes('--prompt') || args.includes('--prompt-file') ? [] : ['--prompt', 'x']), ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const noRepo = await runCli(['sandbox', 'run', '--repo', tempDir(), '--prompt', 'x'], { env });
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toMatch(/not inside a git repository/);
    expect(existsSync(home)).toBe(false);
    expect(statSync(repo).isDirectory()).toBe(true);
  });
});
