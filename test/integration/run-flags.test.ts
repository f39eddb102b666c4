/**
 * The `sandbox run` flags of issue #27 end to end, with the real claude binary against the scripted
 * model server: --working-dir, --branch, --git-user/--git-email, --worktree (+ --include-dirty),
 * --upload-repo, --focus-phase, --native-config — on native, and on docker where the flag touches
 * the sandbox. Bad values are in run-flags-bad.test.ts.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, type CliResult } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const KEY = `sk-ant-flags-${'f'.repeat(24)}`;
const bash = (command: string): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command } }] });
let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(steps: Scenario['steps']): Promise<NodeJS.ProcessEnv> {
  server = await startModelServer({ scenario: { steps } });
  return { ...process.env, PARALLEL_CC_HOME: tempDir('pcc-home-'), ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1' };
}

async function run(repo: string, env: NodeJS.ProcessEnv, args: string[]): Promise<CliResult & { summary: Record<string, unknown> }> {
  const r = await runCli(['sandbox', 'run', '--repo', repo, ...(args.includes('--prompt-file') ? [] : ['--prompt', 'do it']), ...args, '--json'], { env });
  const summary = (parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
  return { ...r, summary };
}

const results = (): string[] => (server?.toolResults() ?? []).map((t) => t.content.trim());

const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe.each(PROVIDERS)('sandbox run flags that touch the sandbox (%s)', (provider) => {
  it('--working-dir: the agent works in the given folder, and its work lands', async () => {
    const env = await start([bash('pwd'), { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/there.txt', content: 'written\n' } }] }, { text: 'done' }]);
    const repo = makeRepo();
    const r = await run(repo, env, ['--provider', provider, '--working-dir', '/src/app']);
    expect(r.code, r.stderr).toBe(0);
    expect(results()[0]).toBe('/src/app');
    // What claude told the model is where it works.
    expect(server?.requests.some((q) => q.raw.includes('Primary working directory: /src/app'))).toBe(true);
    expect(git(repo, 'show', `${String(r.summary.branch)}:there.txt`)).toBe('written');
    expect(leftoverContainers([String(r.summary.sessionId)])).toEqual([]);
  });

  it('--upload-repo: git log inside has the host history, and the import still works', async () => {
    const env = await start([bash('git log --oneline | wc -l; git log --format=%s -1'), bash('echo more >> README.md && git commit -qam "agent: more"'), { text: 'done' }]);
    const repo = makeRepo();
    for (const n of [2, 3, 4]) {
      writeFiles(repo, { [`f${n}.txt`]: `${n}\n` });
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', `host commit ${n}`);
    }
    const r = await run(repo, env, ['--provider', provider, '--upload-repo']);
    expect(r.code, r.stderr).toBe(0);
    const [count, subject] = (results()[0] ?? '').split('\n');
    expect(Number(count)).toBe(Number(git(repo, 'rev-list', '--count', 'HEAD')));
    expect(subject).toBe('host commit 4');
    const branch = String(r.summary.branch);
    expect(git(repo, 'log', '--format=%s', `main..${branch}`)).toBe('agent: more');
    expect(git(repo, 'show', `${branch}:README.md`)).toBe('# test\nmore');
    // No bundle was left behind in the workspace, so none travelled back.
    expect(git(repo, 'ls-tree', '--name-only', branch)).not.toMatch(/bundle/);
  });

  it('--git-user/--git-email author the agent\'s commits; --branch names the branch', async () => {
    const env = await start([bash('echo a > a.txt && git add a.txt && git commit -qm "agent: a"'), bash('echo b > b.txt'), { text: 'done' }]);
    const repo = makeRepo();
    const r = await run(repo, env, ['--provider', provider, '--branch', 'feature/flags-test', '--git-user', 'Review Bot', '--git-email', 'bot@example.com']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary.branch).toBe('feature/flags-test');
    expect(git(repo, 'log', '--format=%s|%an <%ae>', 'main..feature/flags-test').split('\n')).toEqual(['parallel-cc: uncommitted work|Review Bot <bot@example.com>', 'agent: a|Review Bot <bot@example.com>']);
  });
});

describe('sandbox run flags of the session (native)', () => {
  it('--worktree continues a session\'s branch; a dirty one is refused unless --include-dirty', async () => {
    const env = await start([bash('echo one > one.txt && git add one.txt && git commit -qm "first run"'), { text: 'done' }]);
    const repo = makeRepo();
    const first = await run(repo, env, []);
    expect(first.code, first.stderr).toBe(0);
    const branch = String(first.summary.branch);
    const worktree = String(first.summary.worktree);
    server?.setScenario({ steps: [bash('cat one.txt; cat dirty.txt; echo two > two.txt && git add two.txt && git commit -qm "second run"'), { text: 'done' }] });

    writeFiles(worktree, { 'dirty.txt': 'left by hand\n' });
    const refused = await run(repo, env, ['--worktree', String(first.summary.sessionId)]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/has uncommitted changes/);

    // Its dry run plans what this run uploads: the worktree's branch tip and its changes, not the main checkout.
    const dry = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--dry-run', '--json', '--worktree', worktree, '--include-dirty'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    const planned = parseNdjson(dry.stdout).find((e) => e.type === 'plan') as { base: string; files: Array<{ path: string }> };
    expect(planned.base).toBe(git(repo, 'rev-parse', branch));
    expect(planned.files.map((f) => f.path)).toEqual(expect.arrayContaining(['one.txt', 'dirty.txt']));

    const second = await run(repo, env, ['--worktree', worktree, '--include-dirty']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.summary.branch).toBe(branch);
    expect(results().at(-1)).toBe('one\nleft by hand');
    // The second run's commits land after the first run's, on the same branch and worktree.
    expect(git(repo, 'log', '--format=%s', `main..${branch}`).split('\n')).toEqual(['second run', 'parallel-cc: working state at start', 'first run']);
    expect(git(worktree, 'rev-parse', 'HEAD')).toBe(git(repo, 'rev-parse', branch));
  });

  it('--upload-repo with a file the upload excludes: the start commit sits on the history, and the file stays on the branch', async () => {
    const env = await start([bash('git log --format=%s | head -2; ls -A'), bash('echo x > x.txt && git add x.txt && git commit -qm "agent: x"'), { text: 'done' }]);
    const repo = makeRepo({ 'README.md': '# r\n', '.env': 'SECRET=1\n' });
    const r = await run(repo, env, ['--upload-repo']);
    expect(r.code, r.stderr).toBe(0);
    const [log, listing] = [results()[0]?.split('\n').slice(0, 2), results()[0]?.split('\n').slice(2)];
    expect(log?.[0]).toMatch(/^parallel-cc: start from [0-9a-f]{12}$/);
    expect(log?.[1]).toBe('initial');
    expect(listing).not.toContain('.env');
    const branch = String(r.summary.branch);
    expect(git(repo, 'log', '--format=%s', `main..${branch}`)).toBe('agent: x');
    expect(git(repo, 'show', `${branch}:.env`)).toBe('SECRET=1');
  });

  it('--multi takes --working-dir and --git-user for every task', async () => {
    const env = await start([bash('pwd > where.txt'), { text: 'done' }]);
    const repo = makeRepo();
    const out = join(tempDir(), 'results');
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task', 'a', '--task', 'b', '--working-dir', '/src/app', '--git-user', 'Multi Bot', '--output-dir', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const branches = git(repo, 'branch', '--format=%(refname:short)').split('\n').filter((b) => b !== 'main');
    expect(branches).toHaveLength(2);
    for (const b of branches) {
      expect(git(repo, 'show', `${b}:where.txt`)).toBe('/src/app');
      expect(git(repo, 'log', '-1', '--format=%an', b)).toBe('Multi Bot');
    }
  });

  it('--focus-phase sends only that phase of the --prompt-file to the model', async () => {
    const env = await start([{ text: 'done' }]);
    const repo = makeRepo();
    const phase2 = '### Phase 2: tests\nWrite the tests.\n\n#### details of phase two\n- cover x\n';
    const plan = `# Plan\nIntro.\n\n## Phase 1: setup\nInstall.\n\n${phase2}## Phase 3 - ship\nShip it.\n`;
    const file = join(tempDir(), 'PLAN.md');
    writeFileSync(file, plan);
    const r = await run(repo, env, ['--prompt-file', file, '--focus-phase', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(server?.prompts()).toEqual([phase2]);
  });

  it('--native-config: an allowed domain is reached, another is refused, and a denyRead path is unreadable', async () => {
    const site = http.createServer((_req, res) => res.end('SITE_BODY'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const port = (site.address() as AddressInfo).port;
    try {
      const curl = (host: string): string => `curl -sS -m 10 --noproxy '' http://${host}:${port}/; echo " curl=$?"`;
      const env = await start([bash(curl('localhost')), bash(curl('127.0.0.1')), bash('ls -A /usr/share/doc | wc -l; cat /etc/os-release > /dev/null 2>&1; echo rc=$?; ls /usr/bin/git'), { text: 'done' }]);
      const config = join(tempDir(), 'srt.json');
      writeFileSync(config, JSON.stringify({ network: { allowedDomains: [`localhost:${port}`] }, filesystem: { denyRead: ['/usr/share/doc', '/etc/os-release', '~/.ssh'], allowWrite: ['.', '/tmp'] } }));
      const r = await run(makeRepo(), env, ['--native-config', config]);
      expect(r.code, r.stderr).toBe(0);
      const [allowed, denied, reads] = results();
      expect(readdirSync('/usr/share/doc').length).toBeGreaterThan(0);
      expect(allowed).toContain('SITE_BODY');
      expect(denied).not.toContain('SITE_BODY');
      expect(parseNdjson(r.stdout)).toContainEqual(expect.objectContaining({ type: 'egress', host: '127.0.0.1', port, allowed: false }));
      // A denied folder is empty, a denied file cannot be opened; the rest of /usr is still there.
      expect(reads?.split('\n')).toEqual(['0', 'rc=1', '/usr/bin/git']);
      expect(reads).not.toMatch(/PRETTY_NAME/);
    } finally {
      site.close();
    }
  });
});
