/**
 * runSession end to end over the tempdir fake provider with a scripted agent (a shell script in
 * claude's place, speaking its stream-json): the outcomes a run can have and what each leaves in
 * the summary, the registry, the worktree and the sandbox folder. No sandbox, no model server.
 */
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../src/core/events.js';
import { AppError } from '../../src/errors.js';
import { FakeProvider } from '../fixtures/fake-provider/index.js';
import { git } from '../helpers/git-repo.js';
import { agent, fakeRun as run, PROMPT, RESULT, sandboxesGone } from '../helpers/fake-run.js';

describe('runSession over the fake provider', () => {
  it('completed: the agent’s commit lands on the branch, the row says completed, the sandbox is gone', async () => {
    const r = await run(agent(`printf %s "\${prompt%.}" > prompt-seen.txt\necho hello > hello.txt\ngit add -A && git commit -qm "agent: hello"\necho '${RESULT}'`));
    expect(r.summary).toMatchObject({ status: 'completed', exitCode: 0, costUsd: 0.0123, commits: 1, filesChanged: ['hello.txt', 'prompt-seen.txt'] });
    expect(r.summary.error).toBeUndefined();
    expect(r.summary.reason).toBeUndefined();
    expect(git(r.repo, 'show', `${r.summary.branch}:hello.txt`)).toBe('hello');
    expect(git(r.repo, 'show', `${r.summary.branch}:prompt-seen.txt`)).toBe(PROMPT.trimEnd()); // byte-exact stdin (git trims the final newline)
    expect(r.row).toMatchObject({ status: 'completed', exitCode: 0, commits: 1 });
    expect(sandboxesGone(r.provider)).toBe(true);
    expect(r.events.at(-1)).toMatchObject({ type: 'summary' });
  });

  it('failed agent: exit 3 without a result is a failure with the reason; what it wrote is still kept', async () => {
    const r = await run(agent('echo half > half.txt\nexit 3'));
    expect(r.summary).toMatchObject({ status: 'failed', exitCode: 1, commits: 1, filesChanged: ['half.txt'] });
    expect(r.summary.error).toBe('the agent exited with code 3 before reporting a result');
    expect(r.summary.reason).toBe('agent_failed');
    expect(git(r.repo, 'show', `${r.summary.branch}:half.txt`)).toBe('half');
    expect(r.row).toMatchObject({ status: 'failed', exitCode: 1, error: r.summary.error });
    expect(sandboxesGone(r.provider)).toBe(true);
  });

  it('failed agent with nothing done: no branch is left behind', async () => {
    const r = await run(agent('exit 3'));
    expect(r.summary).toMatchObject({ status: 'failed', exitCode: 1, worktree: null, commits: 0 });
    expect(() => git(r.repo, 'rev-parse', '--verify', '--quiet', r.summary.branch)).toThrow();
    expect(r.row).toMatchObject({ status: 'failed', branch: null, worktreePath: null });
  });

  it('timeout: the agent (and what it started) is stopped, its work so far is kept', async () => {
    const started = Date.now();
    const r = await run(agent('echo partial > partial.txt\nsleep 30 &\nsleep 30'), { timeoutMinutes: 0.01 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.summary).toMatchObject({ status: 'timed_out', exitCode: 4, commits: 1, reason: 'timed_out' });
    expect(r.summary.error).toMatch(/stopped after the 0\.01-minute timeout; its work so far is kept/);
    expect(git(r.repo, 'show', `${r.summary.branch}:partial.txt`)).toBe('partial');
    expect(r.row).toMatchObject({ status: 'timed_out', exitCode: 4, reason: 'timed_out' });
    expect(sandboxesGone(r.provider)).toBe(true);
  });

  it('results refused: a link out of the tree fails the run, the branch stays for inspection', async () => {
    const r = await run(agent(`ln -s /etc/passwd leak\ngit add -A && git commit -qm "agent: leak"\necho '${RESULT}'`));
    expect(r.summary).toMatchObject({ status: 'failed', exitCode: 5, reason: 'results_refused' });
    expect(r.summary.error).toMatch(/^refused the agent's results: .*leak/);
    expect(r.summary.worktree).not.toBeNull();
    expect(() => git(r.repo, 'show', `${r.summary.branch}:leak`)).toThrow();
    expect(r.row).toMatchObject({ status: 'failed', exitCode: 5, reason: 'results_refused' });
    expect(sandboxesGone(r.provider)).toBe(true);
  });

  it('provider check failure: the row is failed with the provider’s reason and hint; no sandbox is made', async () => {
    const provider = new FakeProvider({ unavailable: new AppError('environment', 'the fake backend is down', { hint: 'Start the fake backend.' }) });
    const r = await run(agent(`echo '${RESULT}'`), { provider });
    expect(r.summary).toMatchObject({ status: 'failed', exitCode: 3, error: 'the fake backend is down', hint: 'Start the fake backend.', worktree: null });
    expect(r.row).toMatchObject({ status: 'failed', exitCode: 3, error: 'the fake backend is down' });
    expect(provider.created).toEqual([]);
    expect(r.summary.reason).toBe('provider_unavailable');
  });

  it('a billed sandbox that cannot be destroyed is a warning the user sees; the run still completes', async () => {
    const provider = new FakeProvider({ pricing: { usdPerHour: 0.1, minimumSeconds: 60 }, destroyFails: new Error('the API said 503') });
    const r = await run(agent(`echo '${RESULT}'`), { provider });
    expect(r.summary).toMatchObject({ status: 'completed', exitCode: 0 });
    const warning = r.events.find((e) => e.type === 'warning');
    expect(warning).toMatchObject({ type: 'warning', sessionId: r.summary.sessionId });
    expect(warning?.type === 'warning' ? warning.message : '').toMatch(/^could not destroy fake sandbox fake-\w+ \(the API said 503\): it may still be running and billed; remove it with `parallel-cc cleanup`/);
    // before the summary, so a live view shows it
    expect(r.events.indexOf(warning as StreamEvent)).toBeLessThan(r.events.length - 1);
  });

  it('an unbilled sandbox that cannot be destroyed stays quiet (its leftovers are cleanup’s)', async () => {
    const provider = new FakeProvider({ destroyFails: new Error('gone') });
    const r = await run(agent(`echo '${RESULT}'`), { provider });
    expect(r.summary).toMatchObject({ status: 'completed', exitCode: 0 });
    expect(r.events.filter((e) => e.type === 'warning')).toEqual([]);
  });
});
