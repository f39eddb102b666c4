/**
 * E2B sandboxes outlive their CLI: after the CLI is SIGKILLed mid-run, another CLI process follows
 * the agent (`logs --follow`), reads its health, downloads from the live sandbox, leaves it alone
 * in `cleanup`, kills it, or reattaches and finishes the session as the agent did. Real SDK →
 * local E2B emulator → bwrap → real claude.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useE2B } from '../helpers/e2b.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const e2b = useE2B();

describe('e2b sandboxes after their CLI died', () => {
  it('survives a SIGKILLed CLI: logs --follow reattaches, download fetches from the live sandbox, kill destroys it', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await e2b.killedMidRun(home, repo);
    expect(e2b.sandboxOf(id)?.state).toBe('running');
    // cleanup leaves a cloud session alone while its agent still works.
    await e2b.expectKeptByCleanup(home, id);
    expect(e2b.sandboxOf(id)?.state).toBe('running');
    const followed = await e2b.followToEnd(home, id);
    // Each agent line once, down to the whole event: the part the dead CLI logged is not replayed.
    const keys = followed.filter((e) => typeof e.agentLine === 'number').map((e) => JSON.stringify({ ...e, ts: undefined }));
    expect(new Set(keys).size).toBe(keys.length);
    // Health reaches the live sandbox of the orphaned session and estimates what it costs so far.
    const h = await e2b.health(home, id);
    expect(h).toMatchObject({ status: 'orphaned', provider: 'e2b', memoryLimitBytes: 1024 * 2 ** 20 });
    expect(h.sandboxCostUsd).toBeGreaterThanOrEqual(0.1 / 60);
    await e2b.expectLiveDownload(home, id);
    const killed = await e2b.killKeepingWork(home, repo, id);
    expect(killed.commits).toBeGreaterThanOrEqual(1);
    expect(e2b.sandboxOf(id)?.state).toBe('killed');
  });

  it('sandbox reattach after a SIGKILLed CLI streams the rest of the agent and finishes the session as the agent did', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await e2b.killedMidRun(home, repo);
    const r = await runCli(['sandbox', 'reattach', '--session-id', id], { env: e2b.env(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/→ Write .*second\.txt/);
    expect(r.stdout).toMatch(/finished the work/);
    expect(r.stdout).toMatch(new RegExp(`Session ${id} COMPLETED`));
    const row = await e2b.statusRow(home, id);
    expect(row.status).toBe('completed');
    expect(row.error).toBeNull();
    expect(git(repo, 'show', `${String(row.branch)}:second.txt`)).toBe('second');
    expect(e2b.sandboxOf(id)?.state).toBe('killed');
  });

});
