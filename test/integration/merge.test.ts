import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConflictsOutput } from '../../src/core/merge/conflicts.js';
import type { MergeOutput } from '../../src/core/merge/queue.js';
import type { Session } from '../../src/store/sessions.js';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { commitStep, registryRows, repoSnapshot } from '../helpers/merge-repo.js';

// shared.txt: beta and gamma both rewrite line 1 (they conflict); alpha rewrites line 6 (apart).
const SHARED = ['one', 'two', 'three', 'four', 'five', 'six', ''].join('\n');
let server: ModelServer;
let repo: string;
let home: string;
let env: NodeJS.ProcessEnv;
let group: string;
let byTask: Map<string, Session>;

beforeAll(async () => {
  server = await startModelServer({
    scenario: {
      steps: [{ text: 'nothing to do' }],
      byPrompt: {
        'task alpha': [commitStep(`sed -i 's/^six$/six by alpha/' shared.txt && echo alpha > alpha.txt`, 'agent: alpha'), { text: 'done' }],
        'task beta': [commitStep(`sed -i 's/^one$/one by beta/' shared.txt`, 'agent: beta'), { text: 'done' }],
        'task gamma': [commitStep(`sed -i 's/^one$/one by gamma/' shared.txt`, 'agent: gamma'), { text: 'done' }],
      },
    },
  });
  repo = makeRepo({ 'README.md': '# merge\n', 'shared.txt': SHARED });
  home = tempDir('pcc-home-');
  env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}`, NO_COLOR: '1' };
  const out = join(tempDir('pcc-out-'), 'results');
  const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task', 'task alpha', '--task', 'task beta', '--task', 'task gamma', '--max-concurrent', '3', '--output-dir', out, '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  const rows = registryRows(home);
  byTask = new Map(rows.map((s) => [String(s.taskId), s]));
  group = String(rows[0]?.groupId);
}, 300_000);

afterAll(async () => {
  await server.close();
});

const json = <T>(text: string): T => JSON.parse(text) as T;
const id = (task: string): string => String(byTask.get(task)?.id);

describe('merge queue and conflict pre-check (native sandboxes, real claude)', () => {
  it('conflicts: finds the overlapping pair and clears the pair whose hunks are apart; nothing changes', async () => {
    const before = repoSnapshot(repo);
    const r = await runCli(['conflicts', '--group', group, '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const out = json<ConflictsOutput>(r.stdout);
    const pair = (a: string, b: string) => out.pairs.find((p) => new Set([p.a, p.b]).size === 2 && [p.a, p.b].includes(id(a)) && [p.a, p.b].includes(id(b)));
    expect(pair('task-2', 'task-3')).toMatchObject({ sharedFiles: ['shared.txt'], overlappingFiles: ['shared.txt'], clean: false, conflicts: ['shared.txt'] });
    expect(pair('task-1', 'task-2')).toMatchObject({ sharedFiles: ['shared.txt'], overlappingFiles: [], clean: true, conflicts: [] });
    expect(out.branches.map((b) => b.cleanWithBase)).toEqual([true, true, true]);
    expect(repoSnapshot(repo)).toEqual(before);
  });

  it('--dry-run says what would happen and changes nothing (refs, worktrees, index, files)', async () => {
    const before = repoSnapshot(repo);
    const r = await runCli(['merge', '--group', group, '--dry-run', '--check', 'exit 0', '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(1);
    const out = json<MergeOutput>(r.stdout);
    expect(out.steps.map((s) => [s.taskId, s.action])).toEqual([
      ['task-1', 'would merge'],
      ['task-2', 'would merge'],
      ['task-3', 'conflict'],
    ]);
    expect(repoSnapshot(repo)).toEqual(before);
    expect(registryRows(home).every((s) => s.mergedInto === null)).toBe(true);
  });

  it('--check "exit 1" keeps the branch unmerged and says why', async () => {
    const main = git(repo, 'rev-parse', 'main');
    const r = await runCli(['merge', '--group', group, '--check', 'exit 1', '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(1);
    const out = json<MergeOutput>(r.stdout);
    expect(out.steps[0]).toMatchObject({ taskId: 'task-1', action: 'check failed', check: { passed: false, exitCode: 1, provider: 'native' } });
    expect(out.steps[0]?.reason).toMatch(/--check failed on the merged result \(exit 1 in a native sandbox\): parallel-cc\/\w+ was not merged/);
    expect(out.steps.slice(1).map((s) => s.action)).toEqual(['not reached', 'not reached']);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
    expect(registryRows(home).every((s) => s.mergedInto === null)).toBe(true);
  });

  it('lands the two clean ones with a passing --check, stops at the conflict with commands that work when pasted', async () => {
    const main = git(repo, 'rev-parse', 'main');
    const worktreePaths = (): string[] => git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '));
    const worktrees = worktreePaths();
    // The check runs in the sandbox on the merged files: it sees alpha's file, and what it writes stays there.
    const check = 'test -f alpha.txt && grep -q "six by alpha" shared.txt && touch check-was-here';
    const r = await runCli(['merge', '--group', group, '--check', check, '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(1);
    const out = json<MergeOutput>(r.stdout);
    expect(out.steps.map((s) => [s.taskId, s.action])).toEqual([
      ['task-1', 'merged'],
      ['task-2', 'merged'],
      ['task-3', 'conflict'],
    ]);
    expect(out.steps.slice(0, 2).every((s) => s.check?.passed === true)).toBe(true);
    // main is checked out (clean) in the repo: it moved, and the output says so.
    expect(r.stderr).toMatch(/main is checked out in .*: it was fast-forwarded to [0-9a-f]{12}/);
    expect(git(repo, 'rev-parse', 'main')).toBe(out.after);
    expect(git(repo, 'merge-base', '--is-ancestor', main, 'main')).toBe('');
    for (const t of ['task-1', 'task-2']) git(repo, 'merge-base', '--is-ancestor', String(byTask.get(t)?.branch), 'main');
    expect(readFileSync(join(repo, 'shared.txt'), 'utf8')).toBe(SHARED.replace('one', 'one by beta').replace('six', 'six by alpha'));
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(repo, 'check-was-here'))).toBe(false);
    expect(git(repo, 'ls-tree', '-r', '--name-only', 'main')).not.toContain('check-was-here');
    // No temporary worktree is left, none was added.
    expect(worktreePaths()).toEqual(worktrees);
    execFileSync('git', ['-C', repo, 'fsck', '--no-progress'], { stdio: 'pipe' });
    const rows = new Map(registryRows(home).map((s) => [String(s.taskId), s]));
    expect(rows.get('task-1')).toMatchObject({ mergedInto: 'main' });
    expect(rows.get('task-2')).toMatchObject({ mergedInto: 'main', mergedCommit: out.after });
    expect(rows.get('task-3')?.mergedInto).toBeNull();

    // The printed commands, pasted into a shell: the merge stops with markers, the edit resolves it.
    expect(out.stopped?.sessionId).toBe(id('task-3'));
    const commands = out.stopped?.commands ?? [];
    expect(commands.length).toBeGreaterThan(2);
    for (const line of commands) {
      if (line.startsWith('#')) {
        expect(readFileSync(join(repo, 'shared.txt'), 'utf8')).toContain('<<<<<<<');
        writeFileSync(join(repo, 'shared.txt'), SHARED.replace('one', 'one by beta and gamma').replace('six', 'six by alpha'));
        continue;
      }
      const run = spawnSync('sh', ['-c', line], { env: { ...env, GIT_EDITOR: 'true' }, encoding: 'utf8' });
      expect(run.status, `${line}\n${run.stderr}`).toBe(/ merge /.test(line) ? 1 : 0);
    }
    git(repo, 'merge-base', '--is-ancestor', String(byTask.get('task-3')?.branch), 'main');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'show', 'main:shared.txt')).toBe(SHARED.replace('one', 'one by beta and gamma').replace('six', 'six by alpha').trimEnd());

    // Everything is merged now: a second run lands nothing and says so.
    const again = await runCli(['merge', '--group', group, '--json'], { env, cwd: repo });
    expect(again.code, again.stderr).toBe(0);
    expect(json<MergeOutput>(again.stdout).steps.map((s) => s.action)).toEqual(['already merged', 'already merged', 'already merged']);
  });
});
