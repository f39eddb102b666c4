/**
 * Cloudflare containers outlive their CLI until they sleep: after the CLI is SIGKILLed mid-run,
 * another CLI follows the agent, reads its health, downloads from the live container, leaves it
 * alone in `cleanup` while the agent works, kills it or reattaches; once the container has slept,
 * `cleanup` finishes the session saying exactly what was lost. CLI → bridge emulator (the real
 * bridge Worker, schema-checked: the file fails on any violation) → bwrap → real claude.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useCloudflare } from '../helpers/cloudflare.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const cf = useCloudflare();
const containersOf = async (home: string, id: string): Promise<string[]> => {
  const sandboxId = String((await cf.statusRow(home, id)).sandboxId);
  return cf.emulator().sandboxes().find((b) => b.id === sandboxId)?.containers ?? [];
};

describe('cloudflare sandboxes after their CLI died', () => {
  it('survives a SIGKILLed CLI: cleanup keeps it while the agent works, logs --follow, health, live download, kill', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await cf.killedMidRun(home, repo);
    expect(await containersOf(home, id)).toEqual(['running']);
    await cf.expectKeptByCleanup(home, id);
    await cf.followToEnd(home, id);
    const h = await cf.health(home, id);
    expect(h).toMatchObject({ status: 'orphaned', provider: 'cloudflare', diskLimitBytes: 8e9 });
    expect(h.diskBytes).toBeGreaterThan(0);
    expect(h.sandboxCostUsd).toBeGreaterThan(0);
    await cf.expectLiveDownload(home, id);
    await cf.killKeepingWork(home, repo, id);
    expect(await containersOf(home, id)).toEqual(['destroyed']);
  });

  it('sandbox reattach after a SIGKILLed CLI streams the rest of the agent and finishes the session as the agent did', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await cf.killedMidRun(home, repo);
    const r = await runCli(['sandbox', 'reattach', '--session-id', id], { env: cf.env(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/finished the work/);
    expect(r.stdout).toMatch(new RegExp(`Session ${id} COMPLETED`));
    const row = await cf.statusRow(home, id);
    expect(row.status).toBe('completed');
    expect(git(repo, 'show', `${String(row.branch)}:second.txt`)).toBe('second');
    expect(await containersOf(home, id)).toEqual(['destroyed']);
  });

  it('cleanup finishes an orphan whose agent ended after its CLI died: the work lands, the container is destroyed', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await cf.killedMidRun(home, repo);
    // The agent goes on without its CLI; once it has ended, the session is cleanup's to finish.
    await expect.poll(async () => (JSON.parse((await runCli(['cleanup', '--dry-run', '--json'], { env: cf.env(home) })).stdout) as { actions: Array<{ target: string; action: string }> }).actions.find((a) => a.target === id)?.action, { timeout: 60_000, interval: 1000 }).toBe('would finish');
    const cleanup = await runCli(['cleanup', '--json'], { env: cf.env(home) });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect((JSON.parse(cleanup.stdout) as { actions: unknown[] }).actions).toContainEqual(expect.objectContaining({ kind: 'session', target: id, action: 'finished', reason: expect.stringMatching(/commit\(s\) recovered, sandbox removed/) as unknown }));
    const row = await cf.statusRow(home, id);
    expect(git(repo, 'show', `${String(row.branch)}:second.txt`)).toBe('second');
    expect(await containersOf(home, id)).toEqual(['destroyed']);
  });

  it('a container that slept after its CLI died: status and cleanup say its files, the agent\'s work included, are gone', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await cf.killedMidRun(home, repo);
    const sandboxId = String((await cf.statusRow(home, id)).sandboxId);
    cf.emulator().sleep(sandboxId);
    const cleanup = await runCli(['cleanup', '--json'], { env: cf.env(home) });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect((JSON.parse(cleanup.stdout) as { actions: unknown[] }).actions).toContainEqual(expect.objectContaining({ kind: 'session', target: id, action: 'finished' }));
    const row = await cf.statusRow(home, id);
    expect(row.status).toBe('failed');
    expect(String(row.error)).toContain(`the Cloudflare sandbox ${sandboxId} went to sleep or was destroyed: its container was replaced and every file in it is gone: the agent's work in it since the last import was not recovered`);
    // The fresh container that the check started was let go again; nothing runs.
    expect(cf.emulator().running()).toBe(0);
  });
});
