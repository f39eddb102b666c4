/**
 * Small truths of issue #15 (defect 10), with the real claude binary: the commit count is what the
 * branch holds (the agent's commits plus the working-state snapshot) in the summary, `status` and the
 * registry alike; `task` events carry `ts`; costs are rounded to a millionth of a dollar.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

let server: ModelServer | undefined;
const made: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const COMMIT: Scenario['steps'][number] = { toolUses: [{ name: 'Bash', input: { command: 'echo a > a.txt && git add -A && git commit -qm "agent: a"' } }] };

async function setup(scenario: Scenario): Promise<{ repo: string; env: NodeJS.ProcessEnv }> {
  server = await startModelServer({ scenario });
  const repo = makeRepo({ 'README.md': '# truths\n' });
  const home = tempDir('pcc-truths-home-');
  made.push(repo, home);
  return { repo, env: { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'t'.repeat(24)}`, NO_COLOR: '1' } };
}

/** True when a number has no more than 6 decimals (no float noise). */
const rounded = (v: unknown): boolean => typeof v === 'number' && Number(v.toFixed(6)) === v;

describe('small truths', () => {
  it('commits: the summary, status and the registry count what `git log base..branch` lists, snapshot included', async () => {
    const { repo, env } = await setup({ steps: [COMMIT, { text: 'done' }] });
    writeFileSync(join(repo, 'README.md'), '# truths, edited and not committed\n');
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'commit', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const s = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as Record<string, unknown>;
    const listed = git(repo, 'log', '--format=%s', `${String(s.baseCommit)}..${String(s.branch)}`).split('\n');
    expect(listed).toEqual(['agent: a', 'parallel-cc: working state at start']);
    expect(s.commits).toBe(2);
    const status = await runCli(['status', '--all', '--json'], { env });
    const rows = (JSON.parse(status.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> }).repos.flatMap((g) => g.sessions);
    expect(rows.find((x) => x.id === s.sessionId)).toMatchObject({ commits: 2 });
    const human = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'commit again'], { env });
    expect(human.stdout).toMatch(/Branch {4}parallel-cc\/[0-9a-f]{8} \(2 commits, /);
    for (const wt of [s.worktree]) git(repo, 'worktree', 'remove', '--force', String(wt));
  }, 120_000);

  it('--multi: task events carry ts; every cost is rounded to 1e-6', async () => {
    // Usage chosen so the per-task costs do not add up exactly in floating point.
    const { repo, env } = await setup({ steps: [{ ...COMMIT, usage: { input_tokens: 137, output_tokens: 41 } }, { text: 'done', usage: { input_tokens: 211, output_tokens: 13 } }] });
    const out = join(tempDir('pcc-truths-out-'), 'results');
    made.push(join(out, '..'));
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--output-dir', out, '--json', '--task', 'one', '--task', 'two', '--task', 'three'], { env });
    expect(r.code, `${r.stderr}\n${r.stdout.split("\n").filter((l) => l.includes("multi_summary") || l.includes("\"error\"")).join("\n").slice(0, 3000)}`).toBe(0);
    const events = parseNdjson(r.stdout);
    const tasks = events.filter((e) => e.type === 'task');
    expect(tasks.length).toBeGreaterThanOrEqual(9);
    for (const t of tasks) expect(String(t.ts)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { totalCostUsd: number; tasks: Array<{ costUsd: number; worktree: string }> };
    expect(summary.totalCostUsd).toBeGreaterThan(0);
    for (const v of [summary.totalCostUsd, ...summary.tasks.map((t) => t.costUsd)]) expect(rounded(v), String(v)).toBe(true);
    for (const e of events.filter((x) => x.type === 'result')) expect(rounded(e.costUsd), String(e.costUsd)).toBe(true);
    for (const t of summary.tasks) git(repo, 'worktree', 'remove', '--force', t.worktree);
  }, 180_000);
});
