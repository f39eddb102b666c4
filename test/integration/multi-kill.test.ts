/**
 * `sandbox kill` of one --multi task (issue #15, defect 2): only that task stops, the batch goes on,
 * and its summary says which task was killed and by whom. Real claude, native provider.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { parseNdjson, startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const LONG_COMMAND = `node -e "setTimeout(() => {}, 600000)"`;
const commit = (name: string): { toolUses: Array<{ name: string; input: Record<string, unknown> }> } => ({
  toolUses: [{ name: 'Bash', input: { command: `echo ${name} > ${name}.txt && git add -A && git commit -qm "agent: ${name}"` } }],
});

let server: ModelServer | undefined;
const made: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

describe('sandbox kill of one --multi task', () => {
  it('stops only that task; the others complete; summary and registry name the task and who killed it', async () => {
    server = await startModelServer({
      scenario: {
        steps: [commit('quick'), { text: 'done' }],
        byPrompt: {
          // Still thinking when the kill comes: proves the batch keeps running tasks going.
          'second task': [{ ...commit('second'), delayMs: 8_000 }, { text: 'done' }],
          'slow task': [commit('slow'), { toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND, timeout: 600000 } }] }],
        },
      },
    });
    const repo = makeRepo({ 'README.md': '# batch\n' });
    const home = tempDir('pcc-mkill-home-');
    const outRoot = tempDir('pcc-mkill-out-');
    made.push(repo, home, outRoot);
    const out = join(outRoot, 'results');
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'m'.repeat(24)}`, NO_COLOR: '1' };
    const batch = startCli(['sandbox', 'run', '--repo', repo, '--multi', '--max-concurrent', '3', '--output-dir', out, '--json', '--task', 'first task', '--task', 'second task', '--task', 'slow task'], { env });
    let stdout = '';
    batch.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const lines = (): Json[] => parseNdjson(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
    // The slow task's agent is inside its long command.
    await expect.poll(() => lines().some((e) => e.taskId === 'task-3' && e.type === 'tool_use' && JSON.stringify(e.input).includes('setTimeout')), { timeout: 60_000, interval: 200 }).toBe(true);
    const slowId = String(lines().find((e) => e.taskId === 'task-3' && typeof e.sessionId === 'string')?.sessionId);

    const killer = startCli(['sandbox', 'kill', '--session-id', slowId, '--json'], { env });
    const k = await killer.done;
    expect(k.code, k.stderr).toBe(0);
    expect(JSON.parse(k.stdout)).toMatchObject({ sessionId: slowId, status: 'killed', how: 'owner-stopped' });
    const killedAt = Date.now();

    const r = await batch.done;
    // One task did not complete: 1, not Ctrl-C's 130.
    expect(r.code, r.stderr).toBe(1);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { interrupted: boolean; exitCode: number; counts: Json; tasks: Json[] };
    expect(summary).toMatchObject({ interrupted: false, exitCode: 1, counts: { completed: 2, killed: 1 } });
    const by = `\`parallel-cc sandbox kill\` (pid ${killer.child.pid})`;
    const [t1, t2, t3] = summary.tasks;
    expect(t1).toMatchObject({ taskId: 'task-1', status: 'completed' });
    expect(t2).toMatchObject({ taskId: 'task-2', status: 'completed' });
    expect(Date.parse(String(t2?.completedAt))).toBeGreaterThan(killedAt - 1000);
    expect(t3).toMatchObject({ taskId: 'task-3', sessionId: slowId, status: 'killed', error: { reason: 'killed_by_user', message: `killed by ${by}` } });
    // The slow task's work so far is on its branch, its worktree kept like the others'.
    expect(git(repo, 'show', `${String(t3?.branch)}:slow.txt`)).toBe('slow');
    expect(existsSync(String(t3?.worktree))).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain(`- **task-3** (killed, killed_by_user): killed by ${by}`);
    const db = openDb(join(home, 'coordinator.db'));
    try {
      expect(new SessionRepository(db).get(slowId)).toMatchObject({ status: 'killed', error: `killed by ${by}` });
    } finally {
      db.close();
    }
    for (const t of summary.tasks) if (typeof t.worktree === 'string') git(repo, 'worktree', 'remove', '--force', t.worktree);
  }, 180_000);

  it('kill --no-download of a live single run: the owner stops it without collecting, and says so', async () => {
    server = await startModelServer({ scenario: { steps: [commit('lost'), { toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND, timeout: 600000 } }] }] } });
    const repo = makeRepo({ 'README.md': '# single\n' });
    const home = tempDir('pcc-mkill-home-');
    made.push(repo, home);
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'n'.repeat(24)}`, NO_COLOR: '1' };
    const run = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hold', '--json'], { env });
    let stdout = '';
    run.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    await expect.poll(() => stdout.includes('setTimeout'), { timeout: 60_000, interval: 200 }).toBe(true);
    const id = String(parseNdjson(stdout.slice(0, stdout.lastIndexOf('\n') + 1))[0]?.sessionId);
    const killer = startCli(['sandbox', 'kill', '--session-id', id, '--no-download', '--json'], { env });
    const k = await killer.done;
    expect(k.code, k.stderr).toBe(0);
    expect(JSON.parse(k.stdout)).toMatchObject({ sessionId: id, status: 'killed', how: 'owner-stopped', branch: null });
    const r = await run.done;
    expect(r.code).toBe(130);
    const summary = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as Json;
    expect(summary).toMatchObject({ status: 'killed', worktree: null, killedBy: `\`parallel-cc sandbox kill\` (pid ${killer.child.pid})` });
    expect(String(summary.error)).toMatch(/^killed by `parallel-cc sandbox kill` \(pid \d+\) \(its work was not collected: --no-download\)$/);
    expect(stdout).not.toContain('"phase":"collecting"');
    expect(git(repo, 'branch', '--list', `parallel-cc/${id}`)).toBe('');
  }, 120_000);
});
