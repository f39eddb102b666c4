import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrOutput } from '../../src/core/merge/pr.js';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { commitStep, registryRows } from '../helpers/merge-repo.js';

let server: ModelServer;
let home: string;
let baseEnv: NodeJS.ProcessEnv;

/** A fake `gh` on PATH: logs each call's argv (and the --body-file's text) as a JSON line; `auth status` exits `authExit`. */
function fakeGh(authExit: number): { bin: string; log: string; calls: () => Array<{ argv: string[]; body?: string }> } {
  const bin = tempDir('pcc-fake-gh-');
  const log = join(bin, 'calls.ndjson');
  writeFileSync(
    join(bin, 'gh'),
    `#!${process.execPath}
const fs = require('node:fs');
const argv = process.argv.slice(2);
const i = argv.indexOf('--body-file');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv, ...(i >= 0 ? { body: fs.readFileSync(argv[i + 1], 'utf8') } : {}) }) + '\\n');
if (argv[0] === 'auth') process.exit(${authExit});
if (argv[0] === 'pr') console.log('https://github.com/acme/widgets/pull/7');
`,
  );
  chmodSync(join(bin, 'gh'), 0o755);
  return { bin, log, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; body?: string }) : []) };
}

/** A repository with a local bare `origin`. */
function repoWithRemote(): { repo: string; bare: string } {
  const repo = makeRepo({ 'README.md': '# pr\n' });
  const bare = tempDir('pcc-bare-');
  git(bare, 'init', '-q', '--bare');
  git(repo, 'remote', 'add', 'origin', bare);
  return { repo, bare };
}

const remoteBranch = (bare: string, branch: string): string => spawnSync('git', ['-C', bare, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { encoding: 'utf8' }).stdout.trim();

async function runAgent(repo: string, prompt: string, extra: string[] = [], env = baseEnv): Promise<{ code: number | null; events: Array<Record<string, unknown>>; stderr: string }> {
  const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', prompt, '--json', ...extra], { env });
  return { code: r.code, events: parseNdjson(r.stdout), stderr: r.stderr };
}

beforeAll(async () => {
  server = await startModelServer({ scenario: { steps: [commitStep('echo feature > feature.txt', 'agent: add the feature'), { text: 'done' }] } });
  home = tempDir('pcc-home-');
  baseEnv = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}`, NO_COLOR: '1' };
});
afterAll(async () => {
  await server.close();
});

describe('parallel-cc pr (native sandbox, real claude)', () => {
  it('with gh logged in: pushes the branch and calls gh pr create with the right argv and body', async () => {
    const { repo, bare } = repoWithRemote();
    const ran = await runAgent(repo, 'add the feature file');
    expect(ran.code, ran.stderr).toBe(0);
    const session = registryRows(home).find((s) => s.repoPath === repo);
    const branch = String(session?.branch);
    const gh = fakeGh(0);
    const env = { ...baseEnv, PATH: `${gh.bin}:${String(process.env.PATH)}` };
    const r = await runCli(['pr', String(session?.id), '--title', 'Add the feature', '--draft', '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as PrOutput;
    expect(out).toMatchObject({ via: 'gh', pushed: true, url: 'https://github.com/acme/widgets/pull/7', branch, base: 'main' });
    expect(remoteBranch(bare, branch)).toBe(git(repo, 'rev-parse', branch));
    const calls = gh.calls();
    expect(calls.map((c) => c.argv[0])).toEqual(['auth', 'pr']);
    expect(calls[0]?.argv).toEqual(['auth', 'status']);
    const argv = calls[1]?.argv ?? [];
    expect(argv.slice(0, 8)).toEqual(['pr', 'create', '--head', branch, '--base', 'main', '--title', 'Add the feature']);
    expect(argv[8]).toBe('--body-file');
    expect(argv.slice(10)).toEqual(['--draft']);
    expect(calls[1]?.body).toContain('> add the feature file');
    expect(calls[1]?.body).toMatch(/- [0-9a-f]+ agent: add the feature/);
    expect(calls[1]?.body).toContain('- `feature.txt`');
    expect(calls[1]?.body).toMatch(/Cost: \$\d/);
  }, 120_000);

  it('without gh (or not logged in): pushes nothing, and the printed command works against the bare remote', async () => {
    const { repo, bare } = repoWithRemote();
    const ran = await runAgent(repo, 'add the feature file');
    expect(ran.code, ran.stderr).toBe(0);
    const session = registryRows(home).find((s) => s.repoPath === repo);
    const branch = String(session?.branch);
    for (const env of [baseEnv, { ...baseEnv, PATH: `${fakeGh(1).bin}:${String(process.env.PATH)}` }]) {
      const r = await runCli(['pr', String(session?.id), '--json'], { env, cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as PrOutput;
      expect(out).toMatchObject({ via: 'manual', pushed: false });
      expect(out.compareUrl).toBeUndefined();
      expect(remoteBranch(bare, branch)).toBe('');
      const human = await runCli(['pr', String(session?.id)], { env, cwd: repo });
      expect(human.stdout).toContain('nothing was pushed');
      expect(human.stdout).toContain(String(out.commands?.[0]));
    }
    const r = await runCli(['pr', String(session?.id), '--json'], { env: baseEnv, cwd: repo });
    for (const line of (JSON.parse(r.stdout) as PrOutput).commands ?? []) {
      const run = spawnSync('sh', ['-c', line], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
    }
    expect(remoteBranch(bare, branch)).toBe(git(repo, 'rev-parse', branch));
    // A GitHub remote (ssh form) gets the compare URL.
    git(repo, 'remote', 'add', 'upstream', 'git@github.com:acme/widgets.git');
    const up = JSON.parse((await runCli(['pr', String(session?.id), '--remote', 'upstream', '--json'], { env: baseEnv, cwd: repo })).stdout) as PrOutput;
    expect(up.compareUrl).toBe(`https://github.com/acme/widgets/compare/main...${encodeURIComponent(branch)}?expand=1`);
    const missing = await runCli(['pr', String(session?.id), '--remote', 'nowhere'], { env: baseEnv, cwd: repo });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no git remote "nowhere"/);
  }, 120_000);
});

describe('sandbox run --git-live', () => {
  it('a completed run pushes and opens the pull request; a failed one pushes nothing; no remote is exit 2 with nothing created', async () => {
    const gh = fakeGh(0);
    const env = { ...baseEnv, PATH: `${gh.bin}:${String(process.env.PATH)}` };
    const { repo, bare } = repoWithRemote();
    const ok = await runAgent(repo, 'add the feature file', ['--git-live'], env);
    expect(ok.code, ok.stderr).toBe(0);
    const summary = ok.events.find((e) => e.type === 'summary')?.summary as { branch: string; status: string };
    expect(summary.status).toBe('completed');
    expect(remoteBranch(bare, summary.branch)).toBe(git(repo, 'rev-parse', summary.branch));
    expect(ok.events.some((e) => e.type === 'phase' && String(e.message).includes('pull request https://github.com/acme/widgets/pull/7'))).toBe(true);
    expect(gh.calls().filter((c) => c.argv[0] === 'pr')).toHaveLength(1);

    // The agent's commit lands, but the check fails: the session is failed and nothing is pushed.
    const failed = await runAgent(repo, 'add the feature file', ['--git-live', '--on-success', 'exit 1'], env);
    expect(failed.code).not.toBe(0);
    const fs = failed.events.find((e) => e.type === 'summary')?.summary as { branch: string; status: string; commits: number };
    expect(fs).toMatchObject({ status: 'failed', commits: 1 });
    expect(remoteBranch(bare, fs.branch)).toBe('');
    expect(gh.calls().filter((c) => c.argv[0] === 'pr')).toHaveLength(1);
    expect(failed.events.some((e) => e.type === 'warning' && /--git-live: nothing pushed \(the session ended failed\)/.test(String(e.message)))).toBe(true);

    const bare2 = makeRepo();
    const before = registryRows(home).length;
    const refused = await runCli(['sandbox', 'run', '--repo', bare2, '--prompt', 'x', '--git-live'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no git remote "origin"/);
    expect(registryRows(home)).toHaveLength(before);
    expect(git(bare2, 'branch', '--list', 'parallel-cc/*')).toBe('');
    const multi = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task', 'x', '--git-live'], { env });
    expect(multi.code).toBe(2);
    expect(multi.stderr).toMatch(/--git-live is not supported with --multi/);
  }, 180_000);
});
