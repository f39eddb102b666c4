/**
 * finishSession over the fake provider: a session whose CLI died (the state is made by a real
 * runSession with --no-cleanup, then the host side is put back to where a CLI killed before the
 * import leaves it). Another CLI's provider instance reconnects by sandbox id, brings the work onto
 * the branch like a run does (collect in the sandbox, judge in quarantine), destroys the sandbox and
 * records one settled outcome; a billed sandbox it cannot destroy is a warning in the report.
 */
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentStartCommit, finishSession } from '../../src/core/recover.js';
import type { RunSummary } from '../../src/core/events.js';
import { FakeProvider, type FakeProviderOptions } from '../fixtures/fake-provider/index.js';
import { agent, fakeRun, RESULT, type FakeRun } from '../helpers/fake-run.js';
import { git } from '../helpers/git-repo.js';

const WORK = `echo hello > hello.txt\ngit add -A && git commit -qm "agent: hello"\necho wip > wip.txt\necho '${RESULT}'`;

/** Runs `body` keeping the sandbox, then undoes the host import and marks the row running: the CLI "died" after the agent ended. */
async function orphaned(body: string, opts: { undoInSandbox?: boolean } = {}): Promise<FakeRun & { id: string; sandboxDir: string }> {
  const r = await fakeRun(agent(body), { keepSandbox: true });
  const id = r.summary.sessionId;
  const s = r.sessions.require(id);
  expect(s.worktreePath, r.summary.error).toBeTruthy();
  git(String(s.worktreePath), 'reset', '-q', '--hard', await agentStartCommit(s));
  r.sessions.update(id, { status: 'running', completedAt: null, cleanedAt: null, error: null });
  const sandboxDir = String(r.sessions.require(id).sandboxDir);
  expect(existsSync(sandboxDir)).toBe(true);
  if (opts.undoInSandbox) {
    // The agent's work undone in the sandbox itself: nothing beyond its start is left to bring back.
    const workspace = `${sandboxDir}/workspace`;
    git(workspace, 'reset', '-q', '--hard', String(s.sandboxStart));
    git(workspace, 'clean', '-qfdx');
  }
  return { ...r, id, sandboxDir };
}

async function finish(r: FakeRun & { id: string }, opts: { status: RunSummary['status']; reason: string; collect?: boolean }, provider: FakeProviderOptions = {}) {
  // Another CLI: a fresh provider instance that knows the sandbox only by its id.
  const finisher = new FakeProvider(provider);
  const report = await finishSession(r.sessions.require(r.id), { sessions: r.sessions, provider: finisher, now: () => new Date() }, opts);
  return { report, row: r.sessions.require(r.id) };
}

describe('finishSession over the fake provider', () => {
  it('reconnects by sandbox id, brings the commit and the uncommitted work onto the branch, destroys the sandbox, records the status', async () => {
    const r = await orphaned(WORK);
    const branch = String(r.summary.branch);
    expect(git(r.repo, 'log', '--format=%s', `main..${branch}`)).toBe(''); // nothing imported yet
    const { report, row } = await finish(r, { status: 'failed', reason: 'interrupted: its CLI died' });
    expect(report).toMatchObject({ sessionId: r.id, status: 'failed', commits: 2, worktreeKept: true, sandboxDestroyed: true, error: 'interrupted: its CLI died' });
    expect(report.files.sort()).toEqual(['hello.txt', 'wip.txt']);
    expect(report.warnings).toBeUndefined();
    expect(git(r.repo, 'log', '--format=%s', `main..${branch}`).split('\n')).toEqual(['parallel-cc: uncommitted work', 'agent: hello']);
    expect(git(r.repo, 'show', `${branch}:wip.txt`)).toBe('wip');
    expect(row).toMatchObject({ status: 'failed', error: 'interrupted: its CLI died', reason: 'agent_failed', commits: 2 });
    expect(row.cleanedAt).toBeTruthy();
    expect(existsSync(r.sandboxDir)).toBe(false);
  });

  it('completed with nothing new: the worktree and the branch go', async () => {
    const r = await orphaned(WORK, { undoInSandbox: true });
    const { report, row } = await finish(r, { status: 'completed', reason: '' });
    expect(report).toMatchObject({ status: 'completed', commits: 0, worktreeKept: false, sandboxDestroyed: true });
    expect(report.reason).toBeUndefined();
    expect(row).toMatchObject({ status: 'completed', reason: null, worktreePath: null, branch: null, commits: 0 });
    expect(git(r.repo, 'branch', '--list', String(r.summary.branch))).toBe('');
  });

  it('killed from outside without download: the sandbox goes, nothing is collected, the reason is killed_by_user', async () => {
    const r = await orphaned(WORK);
    const { report, row } = await finish(r, { status: 'killed', reason: 'killed by `parallel-cc sandbox kill`', collect: false });
    expect(report).toMatchObject({ status: 'killed', commits: 0, sandboxDestroyed: true, reason: 'killed_by_user' });
    expect(row).toMatchObject({ status: 'killed', reason: 'killed_by_user' });
    expect(existsSync(r.sandboxDir)).toBe(false);
  });

  it('results that do not pass the tree check: failed with results_refused, the worktree stays, the sandbox still goes', async () => {
    const r = await orphaned(`echo ok > ok.txt\nln -s /etc/passwd leak\ngit add -A && git commit -qm "agent: leak"\necho '${RESULT}'`);
    const { report, row } = await finish(r, { status: 'completed', reason: '' });
    expect(report).toMatchObject({ reason: 'results_refused', worktreeKept: true, sandboxDestroyed: true, commits: 0 });
    expect(report.error).toMatch(/^results not applied: refused the agent's results: .*leak/);
    expect(row).toMatchObject({ status: 'failed', reason: 'results_refused' });
    expect(() => git(r.repo, 'show', `${String(r.summary.branch)}:leak`)).toThrow();
    expect(existsSync(r.sandboxDir)).toBe(false);
  });

  it('a sandbox that is gone already: the status is recorded; with nothing to bring back the empty worktree goes', async () => {
    const r = await orphaned(WORK);
    rmSync(r.sandboxDir, { recursive: true, force: true });
    const { report, row } = await finish(r, { status: 'failed', reason: 'orphaned: its CLI died' });
    expect(report).toMatchObject({ status: 'failed', commits: 0, sandboxDestroyed: false, worktreeKept: false });
    expect(row).toMatchObject({ status: 'failed', error: 'orphaned: its CLI died' });
  });

  it('a billed sandbox that cannot be destroyed is a warning in the report, with what it cost so far', async () => {
    const r = await orphaned(WORK);
    const { report, row } = await finish(r, { status: 'failed', reason: 'orphaned' }, { pricing: { usdPerHour: 0.1, minimumSeconds: 60 }, destroyFails: new Error('the API said 503') });
    expect(report.commits).toBe(2);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings?.[0]).toMatch(/^could not destroy fake sandbox fake-\w+ \(the API said 503\): it may still be running and billed; remove it with `parallel-cc cleanup`/);
    expect(row.sandboxCostUsd).toBeCloseTo(0.1 / 60, 6);
  });
});
