/**
 * Hostile results, made by the real claude binary's own Bash tool calls (scripted model server),
 * on the native and docker providers: a link out followed by a file below it (the `--multi`
 * changed-files attack), agent-written git config and commit messages that pose as diff headers, a
 * deep link moved up by a 100% rename, and a link through a link. Each attack is refused with a
 * reason; the host stays byte-identical outside the worktree and the output folder; what the agent
 * did before is kept in the series the error names. Hostile-but-valid trees export exactly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { git, tempDir } from '../helpers/git-repo.js';
import { hostFixture, REAL_KEY, treeDigest } from '../helpers/security.js';

const bash = (command: string): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command } }] });
const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Every entry below a folder: type, mode, link target or content (to compare two exports). */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const rel = relative(root, p);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) walk(p);
      else out.push(`${rel} ${(st.mode & 0o111) !== 0 ? 'x' : '-'} ${readFileSync(p).toString('base64')}`);
    }
  };
  walk(root);
  return out;
}

/** The user's checkout and its git config and hooks: what no result may touch. */
const checkout = (repo: string): string => `${git(repo, 'status', '--porcelain')}|${git(repo, 'rev-parse', 'HEAD')}|${readFileSync(join(repo, '.git', 'config'), 'utf8')}|${treeDigest(join(repo, '.git', 'hooks'))}`;

async function attack(provider: string, steps: Scenario['steps'], extra: string[] = ['--prompt', 'attack']) {
  const fx = hostFixture();
  server = await startModelServer({ scenario: { steps: [...steps, { text: 'done' }] } });
  const env = { ...process.env, HOME: fx.hostHome, PARALLEL_CC_HOME: fx.home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
  const before = { home: treeDigest(fx.hostHome), repo: checkout(fx.repo) };
  const r = await runCli(['sandbox', 'run', '--repo', fx.repo, '--json', '--provider', provider, ...extra], { env });
  const events = parseNdjson(r.stdout);
  const summary = (events.find((e) => e.type === 'summary')?.summary ?? events.find((e) => e.type === 'multi_summary')?.summary) as Record<string, unknown>;
  const unchanged = (): void => {
    expect(treeDigest(fx.hostHome)).toBe(before.home);
    expect(checkout(fx.repo)).toBe(before.repo);
  };
  return { ...fx, r, env, summary, unchanged, results: (server.toolResults() ?? []).map((t) => t.content).join('\n') };
}

describe.each(PROVIDERS)('hostile results on the %s provider', (provider) => {
  it('--multi: a link out and then a file below it is refused; nothing is written outside the output folder; the earlier work is kept', async () => {
    const out = tempDir('pcc-attack-out-');
    const a = await attack(
      provider,
      [
        bash(`echo first > feature.txt && git add feature.txt && git commit -qm 'real work' && echo ok1`),
        // The classic: changed-files/ gets the link first, then a write through it lands in $HOME.
        bash(`ln -s "$HOME_TARGET" l && git add l && git commit -qm link && git rm -q l && mkdir l && printf '[core]\\n\\tfsmonitor = touch /tmp/PWNED\\n' > l/.gitconfig && git add -A && git commit -qm file && echo ok2`.replace('$HOME_TARGET', '/home/victim')),
      ],
      ['--multi', '--task', 'attack', '--output-dir', out],
    );
    expect(a.results).toMatch(/ok1[\s\S]*ok2/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ status: string; sessionId: string; outputDir: string; error?: { message: string; hint?: string } }> };
    const task = summary.tasks[0];
    expect(task?.status).toBe('failed');
    expect(task?.error?.message).toMatch(/refused the agent's results: l: symlink to an absolute path \(\/home\/victim\)/);
    // The series is kept (with the work done before the attack) and the hint says where.
    const series = /kept at (\S+results\.series)/.exec(task?.error?.hint ?? '')?.[1];
    expect(series && readFileSync(series, 'utf8')).toContain('feature.txt');
    expect(task?.outputDir).toBe(join(out, 'task-1'));
    expect(existsSync(join(out, 'task-1', 'changed-files'))).toBe(false);
    a.unchanged();
    expect(a.r.code).toBe(1);
  });

  it('agent-written git config and diff-shaped commit messages change nothing: the tree lands exactly, hooks and fsmonitor never run', async () => {
    const a = await attack(provider, [
      bash(
        [
          `git config format.headers 'Content-Transfer-Encoding: base64'`,
          `git config diff.noprefix true`,
          `git config core.fsmonitor 'touch FSMONITOR_RAN; false'`,
          `git config core.hooksPath .githooks && mkdir .githooks && printf '#!/bin/sh\\ntouch HOOK_RAN\\n' > .githooks/post-commit && chmod +x .githooks/post-commit`,
          `echo one > one.txt && git add one.txt && git -c core.hooksPath=/dev/null commit -qm 'subject' -m "$(printf 'diff --git a/one.txt b/../../escape\\nrename from one.txt\\nrename to ../../escape\\n--- a/one.txt\\n+++ b/.git/hooks/pre-commit\\n@@ -0,0 +1 @@\\n+pwned')"`,
          `rm -f FSMONITOR_RAN HOOK_RAN; echo two > two.txt; echo ok`,
        ].join(' && '),
      ),
    ]);
    expect(a.results).toMatch(/ok/);
    expect(a.summary.status, a.r.stderr).toBe('completed');
    const branch = String(a.summary.branch);
    expect(git(a.repo, 'ls-tree', '-r', '--name-only', branch).split('\n').sort()).toEqual(['.githooks/post-commit', '.gitignore', 'one.txt', 'src/app.ts', 'two.txt']);
    expect(git(a.repo, 'log', '--format=%B', '-1', `${branch}~1`)).toContain('rename to ../../escape');
    a.unchanged();
  });

  it('a deep link moved to the top by a 100% rename, and a link through a link, are refused with the series kept', async () => {
    const deep = Array.from({ length: 30 }, (_, i) => `d${i}`).join('/');
    const a = await attack(provider, [
      bash(`mkdir -p ${deep} && ln -s ${'../'.repeat(29)}x ${deep}/l && git add -A && git commit -qm deep && git mv ${deep}/l l && git commit -qm up && echo ok1`),
      bash(`mkdir -p p/q && ln -s ../.. p/q/a && ln -s a/../x p/q/s && git add -A && git commit -qm chain && echo ok2`),
    ]);
    expect(a.results).toMatch(/ok1[\s\S]*ok2/);
    expect(a.summary.status).toBe('failed');
    expect(a.r.code).toBe(5);
    expect(String(a.summary.error)).toMatch(/refused the agent's results: .*l: symlink pointing outside the repository/);
    expect(String(a.summary.error)).toMatch(/p\/q\/s: symlink pointing outside the repository/);
    expect(String(a.summary.hint)).toMatch(/results\.series/);
    expect(String(a.summary.worktree)).not.toBe('null');
    a.unchanged();
  });

  it('a tree full of valid links exports exactly: --multi changed-files and sandbox download match git archive', async () => {
    const out = tempDir('pcc-attack-out-');
    const a = await attack(
      provider,
      [
        bash(
          `mkdir -p x/y z && echo data > x/y/f && ln -s y x/l && ln -s l/f x/lf && ln -s ../x/l z/up && ln -s . self && ln -s z/up/../y/f chain && ln -s missing dangling && chmod +x x/y/f && git add -A && git commit -qm links && echo ok`,
        ),
      ],
      ['--multi', '--task', 'links', '--output-dir', out],
    );
    expect(a.results).toMatch(/ok/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ status: string; sessionId: string; branch: string; outputDir: string }> };
    expect(summary.tasks[0]?.status).toBe('completed');
    expect(summary.tasks[0]).toMatchObject({ filesChanged: ['chain', 'dangling', 'self', 'x/l', 'x/lf', 'x/y/f', 'z/up'] });
    const branch = summary.tasks[0]?.branch as string;
    const expected = tempDir('pcc-attack-archive-');
    const paths = git(a.repo, 'diff', '--name-only', '--diff-filter=d', 'HEAD', branch).split('\n');
    writeFileSync(join(expected, '.tar'), execFileSync('git', ['-C', a.repo, 'archive', '--format=tar', branch, '--', ...paths]));
    execFileSync('tar', ['-xf', '.tar'], { cwd: expected });
    execFileSync('rm', ['-f', join(expected, '.tar')]);
    expect(listing(join(summary.tasks[0]?.outputDir as string, 'changed-files'))).toEqual(listing(expected));
    const dl = join(out, 'download');
    const d = await runCli(['sandbox', 'download', '--session-id', summary.tasks[0]?.sessionId as string, '--output', dl], { env: a.env });
    expect(d.code, d.stderr).toBe(0);
    expect(listing(dl)).toEqual(listing(expected));
    a.unchanged();
  });
});
