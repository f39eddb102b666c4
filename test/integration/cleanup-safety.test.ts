import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CleanupOutput } from '../../src/core/ops/cleanup.js';
import type { Session } from '../../src/store/sessions.js';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { commitStep, registryRows, repoSnapshot } from '../helpers/merge-repo.js';

let server: ModelServer;
let repo: string;
let home: string;
let env: NodeJS.ProcessEnv;
let rows: Map<string, Session>;

beforeAll(async () => {
  server = await startModelServer({
    scenario: {
      steps: [{ text: 'nothing to do' }],
      byPrompt: {
        'task dirty': [commitStep('echo dirty > dirty.txt', 'agent: dirty'), { text: 'done' }],
        'task squashed': [commitStep('echo one > squashed.txt', 'agent: squashed 1'), commitStep('echo two >> squashed.txt', 'agent: squashed 2'), { text: 'done' }],
        'task unmerged': [commitStep('echo mine > unmerged.txt', 'agent: unmerged'), { text: 'done' }],
      },
    },
  });
  repo = makeRepo({ 'README.md': '# cleanup\n' });
  home = tempDir('pcc-home-');
  env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}`, NO_COLOR: '1' };
  const out = join(tempDir('pcc-out-'), 'results');
  const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task', 'task dirty', '--task', 'task squashed', '--task', 'task unmerged', '--output-dir', out, '--json'], { env });
  expect(r.code, `${r.stderr}\n${r.stdout.slice(-4000)}`).toBe(0);
  rows = new Map(registryRows(home).map((s) => [String(s.taskId), s]));
  const [dirty, squashed] = [rows.get('task-1') as Session, rows.get('task-2') as Session];
  // Both land on main as squash merges (no merge commit: main does not reach their branches)…
  for (const s of [dirty, squashed]) {
    git(repo, 'merge', '--squash', '-q', String(s.branch));
    git(repo, 'commit', '-qm', `squash ${String(s.branch)}`);
  }
  // …but the user is still editing in the first one's worktree.
  writeFileSync(join(String(dirty.worktreePath), 'dirty.txt'), 'edited by hand\n');
  writeFileSync(join(String(dirty.worktreePath), 'notes.txt'), 'untracked notes\n');
}, 300_000);

afterAll(async () => {
  await server.close();
});

const actionsFor = (out: CleanupOutput, s: Session | undefined): Array<[string, string]> => out.actions.filter((a) => a.target === `${String(s?.repoPath)}:${String(s?.branch)}`).map((a) => [a.action, a.reason]);

describe('cleanup never loses work (native sandboxes, real claude)', () => {
  it('--dry-run says what would go and why, and changes nothing; cleanup then does exactly that', async () => {
    const [dirty, squashed, unmerged] = ['task-1', 'task-2', 'task-3'].map((t) => rows.get(t));
    for (const s of [dirty, squashed, unmerged]) expect(existsSync(String(s?.worktreePath))).toBe(true);
    const before = repoSnapshot(repo);

    const dry = await runCli(['cleanup', '--dry-run', '--json'], { env, cwd: repo });
    expect(dry.code, dry.stderr).toBe(0);
    const planned = JSON.parse(dry.stdout) as CleanupOutput;
    expect(actionsFor(planned, dirty)).toEqual([['kept', expect.stringMatching(/uncommitted changes \(dirty\.txt, notes\.txt\)/)]]);
    expect(actionsFor(planned, squashed)).toEqual([['would remove', expect.stringMatching(/already in main \(squash or rebase merge.*with its worktree/)]]);
    expect(actionsFor(planned, unmerged)).toEqual([['kept', expect.stringMatching(/1 commit\(s\) on no other branch and not merged into main/)]]);
    expect(repoSnapshot(repo)).toEqual(before);

    const r = await runCli(['cleanup', '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout) as CleanupOutput;
    expect(actionsFor(done, dirty).map((a) => a[0])).toEqual(['kept']);
    expect(actionsFor(done, squashed).map((a) => a[0])).toEqual(['removed']);
    expect(actionsFor(done, unmerged).map((a) => a[0])).toEqual(['kept']);
    // The squash-merged one is gone (worktree and branch); the others are untouched.
    expect(existsSync(String(squashed?.worktreePath))).toBe(false);
    expect(git(repo, 'branch', '--list', String(squashed?.branch))).toBe('');
    expect(existsSync(join(String(dirty?.worktreePath), 'notes.txt'))).toBe(true);
    expect(git(repo, 'branch', '--list', String(dirty?.branch))).not.toBe('');
    expect(git(repo, 'branch', '--list', String(unmerged?.branch))).not.toBe('');
    expect(existsSync(String(unmerged?.worktreePath))).toBe(true);
    const after = new Map(registryRows(home).map((s) => [String(s.taskId), s]));
    expect(after.get('task-2')).toMatchObject({ branch: null, worktreePath: null });
    expect(after.get('task-1')?.branch).toBe(dirty?.branch);

    // Merged by hand later: `cleanup --merged` takes the unmerged one once it is in main.
    git(repo, 'merge', '-q', '--no-edit', String(unmerged?.branch));
    const merged = await runCli(['cleanup', '--merged', '--json'], { env, cwd: repo });
    expect(merged.code, merged.stderr).toBe(0);
    const m = JSON.parse(merged.stdout) as CleanupOutput;
    expect(actionsFor(m, unmerged)).toEqual([['removed', expect.stringMatching(/every commit is on another branch/)]]);
    expect(actionsFor(m, dirty).map((a) => a[0])).toEqual(['kept']);
    expect(m.actions.every((a) => a.kind === 'branch')).toBe(true);
  });
});
