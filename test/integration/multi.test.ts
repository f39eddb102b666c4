import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/store/sessions.js';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { registryRows } from '../helpers/registry.js';

// Claude Code refuses a bare `sleep 600`; a node timer is a long-running command it accepts.
const LONG_COMMAND = `node -e "setTimeout(() => {}, 600000)"`;
// Every task commits one file of its own, so each branch can be checked for its own commit.
const COMMIT_STEP: Scenario['steps'][number] = {
  toolUses: [{ name: 'Bash', input: { command: 'f="work-$(od -An -N4 -tx4 /dev/urandom | tr -d " ")"; echo "$f" > "$f.txt" && git add -A && git commit -qm "agent: $f"' } }],
};
const QUICK: Scenario = { steps: [COMMIT_STEP, { text: 'done' }] };

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(scenario: Scenario): Promise<{ repo: string; home: string; out: string; env: NodeJS.ProcessEnv }> {
  server = await startModelServer({ scenario });
  const repo = makeRepo({ 'README.md': '# multi\n' });
  const home = tempDir('pcc-home-');
  const out = join(tempDir('pcc-out-'), 'results');
  const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}`, NO_COLOR: '1' };
  return { repo, home, out, env };
}

const rows = registryRows;

const byTask = (list: Session[]): Map<string, Session> => new Map(list.map((r) => [String(r.taskId), r]));

/** Most intervals open at one instant. */
function maxOverlap(intervals: Array<[string, string]>): number {
  const points = intervals.flatMap(([a, b]) => [
    { t: Date.parse(a), d: 1 },
    { t: Date.parse(b), d: -1 },
  ]);
  points.sort((x, y) => x.t - y.t || x.d - y.d);
  let open = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (open += p.d));
  return max;
}

/**
 * No process still uses any of these sandbox folders: none names one on its command line, and none
 * has one mounted (a live sandbox has its workspace bind-mounted from there).
 */
function liveProcessesFor(dirs: string[]): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    let mounts = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      mounts = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue;
    }
    if (dirs.some((d) => cmd.includes(d) || mounts.includes(`${d}/`))) hits.push(`${pid}: ${cmd}`);
  }
  return hits;
}

describe('sandbox run --multi (native provider, real claude)', () => {
  it('runs 6 tasks at most 2 at a time; branches, summary files and registry agree', async () => {
    const { repo, home, out, env } = await setup(QUICK);
    const args = ['sandbox', 'run', '--repo', repo, '--multi', '--max-concurrent', '2', '--output-dir', out, '--json'];
    for (let i = 1; i <= 6; i++) args.push('--task', `task number ${i}`);
    const r = await runCli(args, { env });
    expect(r.code, r.stderr).toBe(0);

    const list = rows(home);
    expect(list).toHaveLength(6);
    expect(new Set(list.map((x) => x.groupId)).size).toBe(1);
    expect([...byTask(list).keys()].sort()).toEqual(['task-1', 'task-2', 'task-3', 'task-4', 'task-5', 'task-6']);
    for (const row of list) expect(row.status).toBe('completed');
    // Never more than 2 alive at once: neither agents (started..completed) nor whole sessions (created..completed).
    expect(maxOverlap(list.map((x) => [String(x.startedAt), String(x.completedAt)]))).toBeLessThanOrEqual(2);
    expect(maxOverlap(list.map((x) => [x.createdAt, String(x.completedAt)]))).toBeLessThanOrEqual(2);
    expect(maxOverlap(list.map((x) => [x.createdAt, String(x.completedAt)]))).toBe(2);

    // Every branch carries exactly its own agent commit, on top of main.
    const seen = new Set<string>();
    for (const row of list) {
      const log = git(repo, 'log', '--format=%s', `main..${String(row.branch)}`).split('\n');
      expect(log).toHaveLength(1);
      expect(log[0]).toMatch(/^agent: work-[0-9a-f]+$/);
      seen.add(String(log[0]));
      const files = git(repo, 'diff', '--name-only', `main..${String(row.branch)}`);
      expect(readFileSync(join(out, String(row.taskId), 'changed-files', files), 'utf8')).toBe(`${files.replace(/\.txt$/, '')}\n`);
    }
    expect(seen.size).toBe(6);
    expect(server?.prompts().sort()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `task number ${i}`));

    // summary.json and summary.md match the registry.
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { groupId: string; exitCode: number; tasks: Array<Record<string, unknown>>; wallMs: number; taskTimeMs: number };
    expect(summary.groupId).toBe(list[0]?.groupId);
    expect(summary.exitCode).toBe(0);
    expect(summary.taskTimeMs).toBeGreaterThan(summary.wallMs);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    const reg = byTask(list);
    for (const t of summary.tasks) {
      const row = reg.get(String(t.taskId));
      expect(t).toMatchObject({ sessionId: row?.id, status: row?.status, branch: row?.branch, costUsd: row?.costUsd, commits: row?.commits, exitCode: row?.exitCode });
      expect(md).toContain(`| ${String(t.taskId)} | completed |`);
      expect(md).toContain(`\`${String(row?.branch)}\``);
      const meta = JSON.parse(readFileSync(join(out, String(t.taskId), 'metadata.json'), 'utf8')) as Record<string, unknown>;
      expect(meta).toMatchObject({ status: 'completed', exitCode: 0, branch: row?.branch, commits: 1 });
      expect(readFileSync(join(out, String(t.taskId), 'execution.log'), 'utf8')).toContain('"type":"tool_use"');
    }
    expect(md).toMatch(/time saved: \d+\.\ds/);

    // NDJSON: every task event names its task; the last line is the batch summary.
    const events = parseNdjson(r.stdout);
    expect(events.filter((e) => e.type === 'tool_use').every((e) => typeof e.taskId === 'string')).toBe(true);
    expect(events.filter((e) => e.type === 'task' && e.state === 'completed')).toHaveLength(6);
    expect(events.at(-1)).toMatchObject({ type: 'multi_summary', summary: { groupId: summary.groupId, exitCode: 0 } });
  });

  it('--fail-fast: a task failing at start stops the ones still initializing; nothing is left behind', async () => {
    const { repo, home, out, env } = await setup(QUICK);
    const file = join(tempDir(), 'tasks.txt');
    writeFileSync(file, ['{"id": "bad", "prompt": "start from nowhere", "base": "no-such-branch"}', 'one', 'two', 'three', 'four'].join('\n'));
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task-file', file, '--max-concurrent', '3', '--fail-fast', '--output-dir', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const reg = byTask(rows(home));
    expect(reg.size).toBe(5);
    expect(reg.get('bad')).toMatchObject({ status: 'failed' });
    expect(reg.get('bad')?.error).toMatch(/no-such-branch/);
    for (const id of ['task-1', 'task-2', 'task-3', 'task-4']) expect(['killed', 'skipped']).toContain(reg.get(id)?.status);
    // The two that were initializing alongside it were stopped; the queued two never started.
    expect([reg.get('task-1')?.status, reg.get('task-2')?.status]).toEqual(['killed', 'killed']);
    expect([reg.get('task-3')?.status, reg.get('task-4')?.status]).toEqual(['skipped', 'skipped']);
    // No agent ever got to talk to the model, no branch, no worktree, no sandbox.
    expect(server?.prompts()).toEqual([]);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
    expect(git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    // Both started a session; a sandbox folder only if they got that far — none may be left.
    expect([...reg.values()].filter((x) => x.sessionDir)).toHaveLength(2);
    const dirs = [...reg.values()].flatMap((x) => (x.sandboxDir ? [x.sandboxDir] : []));
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    expect(liveProcessesFor(dirs)).toEqual([]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ taskId: string; status: string; error?: { reason: string } }> };
    expect(summary.tasks.map((t) => [t.taskId, t.status, t.error?.reason])).toEqual([
      ['bad', 'failed', 'setup_failed'],
      ['task-1', 'killed', 'killed_by_fail_fast'],
      ['task-2', 'killed', 'killed_by_fail_fast'],
      ['task-3', 'skipped', 'cancelled_by_fail_fast'],
      ['task-4', 'skipped', 'cancelled_by_fail_fast'],
    ]);
  });

  it('a task file with comments, blanks, JSON lines and an after chain runs in dependency order', async () => {
    const { repo, home, env } = await setup(QUICK);
    const file = join(tempDir(), 'tasks.txt');
    writeFileSync(
      file,
      [
        '# schema first, then the api on top of it, then docs on top of that',
        '',
        '{"id": "docs", "prompt": "write the docs", "after": ["api"]}',
        '   # an indented comment',
        '{"id": "api", "prompt": "build the api", "after": ["schema"]}',
        'an independent plain task',
        '',
        '{"id": "schema", "prompt": "design the schema"}',
        '',
      ].join('\r\n'),
    );
    // Default output dir, inside the repo: it must not travel into the tasks' sandboxes.
    const r = await runCli(['sandbox', 'run', '--multi', '--task-file', file, '--max-concurrent', '3'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(repo, 'parallel-results', 'summary.md'))).toBe(true);
    const reg = byTask(rows(home));
    expect([...reg.keys()].sort()).toEqual(['api', 'docs', 'schema', 'task-1']);
    const [schema, api, docs] = ['schema', 'api', 'docs'].map((id) => reg.get(id) as Session);
    // Each dependent started after its dependency ended, on top of its result branch.
    expect(Date.parse(String(api?.createdAt))).toBeGreaterThanOrEqual(Date.parse(String(schema?.completedAt)));
    expect(Date.parse(String(docs?.createdAt))).toBeGreaterThanOrEqual(Date.parse(String(api?.completedAt)));
    expect(api?.baseRef).toBe(schema?.branch);
    expect(docs?.baseRef).toBe(api?.branch);
    expect(git(repo, 'log', '--format=%s', `main..${String(docs?.branch)}`).split('\n')).toHaveLength(3);
    git(repo, 'merge-base', '--is-ancestor', String(schema?.branch), String(api?.branch));
    git(repo, 'merge-base', '--is-ancestor', String(api?.branch), String(docs?.branch));
    for (const row of reg.values()) expect(git(repo, 'ls-tree', '-r', '--name-only', String(row.branch))).not.toContain('parallel-results');
    expect(server?.prompts()).toContain('an independent plain task');
    // Plain progress on a pipe: one line per event, tagged with the task.
    expect(r.stderr).toMatch(/^\[docs\] queued after api$/m);
    expect(r.stderr).toMatch(/^\[schema\] completed .*parallel-cc\//m);
    expect(r.stdout).toMatch(/^docs\s+completed/m);
  });

  it('rejects a cycle, a bad --max-concurrent and an unknown --auth-method with exit 2 before anything starts', async () => {
    const { repo, home, out, env } = await setup(QUICK);
    const cyclic = join(tempDir(), 'cycle.txt');
    writeFileSync(cyclic, '{"id": "a", "prompt": "a", "after": ["c"]}\n{"id": "b", "prompt": "b", "after": ["a"]}\n{"id": "c", "prompt": "c", "after": ["b"]}\n');
    const base = ['sandbox', 'run', '--repo', repo, '--multi', '--output-dir', out];
    const cases: Array<[string[], RegExp]> = [
      [['--task-file', cyclic], /cycle: a → c → b → a/],
      [['--task', 'x', '--max-concurrent', '0'], /--max-concurrent must be a whole number from 1 to 64, got "0"/],
      [['--task', 'x', '--max-concurrent', 'abc'], /--max-concurrent .* got "abc"/],
      [['--task', 'x', '--auth-method', 'password'], /unknown --auth-method "password"/],
    ];
    const results = await Promise.all(cases.map(([extra]) => runCli([...base, ...extra, '--json'], { env })));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i]?.[1] as RegExp);
      const [err] = parseNdjson(r.stdout);
      expect(err?.type).toBe('error');
      expect(String(err?.error)).toMatch(cases[i]?.[1] as RegExp);
      expect(typeof err?.hint).toBe('string');
    });
    expect(rows(home)).toEqual([]);
    expect(existsSync(out)).toBe(false);
    expect(server?.requests).toEqual([]);
    // --multi-only flags on a single run are an error too, not silently ignored.
    const single = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--max-concurrent', '2'], { env });
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/--max-concurrent needs --multi/);
  });

  it('--budget-per-task stops a task whose estimated cost passes it and marks it over_budget', async () => {
    const { repo, home, out, env } = await setup({
      steps: [{ toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND } }], usage: { input_tokens: 60_000, output_tokens: 10 } }],
    });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task', 'expensive', '--budget-per-task', '0.05', '--output-dir', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const [row] = rows(home);
    expect(row).toMatchObject({ status: 'over_budget', taskId: 'task-1', exitCode: 1 });
    expect(row?.costUsd).toBeGreaterThan(0.05);
    expect(row?.error).toMatch(/passed the budget of \$0\.05/);
    // Stopped right away, not after the long command or the 60-minute timeout.
    expect(Date.parse(String(row?.completedAt)) - Date.parse(String(row?.startedAt))).toBeLessThan(20_000);
    const meta = JSON.parse(readFileSync(join(out, 'task-1', 'metadata.json'), 'utf8')) as { status: string; error: { reason: string; message: string } };
    expect(meta.status).toBe('over_budget');
    expect(meta.error.reason).toBe('over_budget');
    expect(parseNdjson(r.stdout).some((e) => e.type === 'warning' && e.taskId === 'task-1' && /passed the budget/.test(String(e.message)))).toBe(true);
  });

  it('a task whose output cannot be written fails with that error; its commits stay on the branch', async () => {
    const { repo, home, out, env } = await setup(QUICK);
    mkdirSync(out, { recursive: true });
    // sysfs takes no new files, even from root: every write below task-1/ fails (EACCES/EROFS).
    symlinkSync('/sys/kernel', join(out, 'task-1'));
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task', 'write something', '--output-dir', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const [row] = rows(home);
    expect(row).toMatchObject({ status: 'failed', exitCode: 1, commits: 1 });
    expect(row?.error).toMatch(/^writing .*execution\.log failed: /);
    expect(git(repo, 'log', '--format=%s', `main..${String(row?.branch)}`)).toMatch(/^agent: work-/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ status: string; error: { reason: string; hint: string } }> };
    expect(summary.tasks[0]).toMatchObject({ status: 'failed', error: { reason: 'download_failed', hint: expect.stringContaining(String(row?.branch)) as unknown } });
    expect(parseNdjson(r.stdout).find((e) => e.type === 'task' && e.state === 'failed')).toMatchObject({ taskId: 'task-1', error: expect.stringMatching(/execution\.log failed/) as unknown });
  });

  it('Ctrl-C stops every running sandbox, records each as killed and still writes the summary', async () => {
    const { repo, home, out, env } = await setup({ steps: [{ toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND } }] }] });
    const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--multi', '--task', 'a', '--task', 'b', '--task', 'c', '--max-concurrent', '2', '--output-dir', out], { env });
    const deadline = Date.now() + 60_000;
    while (rows(home).filter((x) => x.status === 'running').length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    const reg = byTask(rows(home));
    expect([reg.get('task-1')?.status, reg.get('task-2')?.status, reg.get('task-3')?.status], JSON.stringify([...reg.values()].map((x) => [x.taskId, x.status, x.error]))).toEqual(['killed', 'killed', 'skipped']);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { interrupted: boolean; exitCode: number };
    expect(summary).toMatchObject({ interrupted: true, exitCode: 130 });
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/interrupted/);
    const dirs = [...reg.values()].flatMap((x) => (x.sandboxDir ? [x.sandboxDir] : []));
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    expect(liveProcessesFor(dirs)).toEqual([]);
  });

  it.skipIf(!dockerReady())('works the same on the docker provider', async () => {
    const { repo, home, out, env } = await setup(QUICK);
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--provider', 'docker', '--task', 'one', '--task', 'two', '--max-concurrent', '2', '--output-dir', out], { env });
    expect(r.code, r.stderr).toBe(0);
    const list = rows(home);
    expect(list.map((x) => [x.taskId, x.status, x.provider]).sort()).toEqual([
      ['task-1', 'completed', 'docker'],
      ['task-2', 'completed', 'docker'],
    ]);
    for (const row of list) expect(git(repo, 'log', '--format=%s', `main..${String(row.branch)}`)).toMatch(/^agent: work-/);
    expect(leftoverContainers(list.map((x) => x.id))).toEqual([]);
  });
});
