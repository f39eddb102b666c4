/**
 * E2B sandboxes outlive their CLI: after the CLI is SIGKILLed mid-run, another CLI process follows
 * the agent (`logs --follow`), reads its health, downloads from the live sandbox, leaves it alone
 * in `cleanup`, kills it, or reattaches and finishes the session as the agent did. Real SDK →
 * local E2B emulator → bwrap → real claude.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
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
    const cleanup = await runCli(['cleanup', '--json'], { env: e2b.env(home) });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect((JSON.parse(cleanup.stdout) as { actions: unknown[] }).actions).toContainEqual(expect.objectContaining({ kind: 'session', target: id, action: 'kept' }));
    expect(e2b.sandboxOf(id)?.state).toBe('running');

    const follow = await runCli(['sandbox', 'logs', '--session-id', id, '--follow', '--json'], { env: e2b.env(home) });
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stderr).toMatch(/reattaching to e2b sandbox/);
    const followed = parseNdjson(follow.stdout);
    expect(followed.some((e) => e.type === 'tool_use' && JSON.stringify(e.input).includes('second.txt'))).toBe(true);
    expect(followed.some((e) => e.type === 'result' && e.isError === false)).toBe(true);
    // Each agent line once: the part the dead CLI logged is not replayed from the sandbox again.
    const lines = followed.map((e) => e.agentLine).filter((n): n is number => typeof n === 'number');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines).toEqual([...lines].sort((x, y) => x - y));
    const keys = followed.filter((e) => typeof e.agentLine === 'number').map((e) => JSON.stringify({ ...e, ts: undefined }));
    expect(new Set(keys).size).toBe(keys.length);
    expect(follow.stderr).toMatch(/the agent ended in sandbox/);

    // Health reaches the live sandbox of the orphaned session and estimates what it costs so far.
    const health = await runCli(['sandbox', 'health', '--session-id', id, '--json'], { env: e2b.env(home) });
    expect(health.code, health.stderr).toBe(0);
    const h = JSON.parse(health.stdout) as Record<string, unknown>;
    expect(h).toMatchObject({ status: 'orphaned', provider: 'e2b', memoryLimitBytes: 1024 * 2 ** 20 });
    expect(h.sandboxCostUsd).toBeGreaterThanOrEqual(0.1 / 60);

    const dl = tempDir();
    const download = await runCli(['sandbox', 'download', '--session-id', id, '--output', dl, '--json'], { env: e2b.env(home) });
    expect(download.code, download.stderr).toBe(0);
    expect(JSON.parse(download.stdout)).toMatchObject({ source: 'live-sandbox' });
    expect(readFileSync(join(dl, 'first.txt'), 'utf8')).toBe('first\n');
    expect(readFileSync(join(dl, 'second.txt'), 'utf8')).toBe('second\n');

    const kill = await runCli(['sandbox', 'kill', '--session-id', id, '--keep-worktree', '--json'], { env: e2b.env(home) });
    expect(kill.code, kill.stderr).toBe(0);
    const killed = JSON.parse(kill.stdout) as { status: string; commits: number; branch: string };
    expect(killed.status).toBe('killed');
    expect(killed.commits).toBeGreaterThanOrEqual(1);
    expect(git(repo, 'show', `${killed.branch}:second.txt`)).toBe('second');
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
