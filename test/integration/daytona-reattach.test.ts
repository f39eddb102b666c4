/**
 * Daytona sandboxes outlive their CLI: after the CLI is SIGKILLed mid-run, another CLI process
 * follows the agent (`logs --follow`), reads its health, downloads from the live sandbox, leaves it
 * alone in `cleanup` while the agent works, kills it, or reattaches and finishes the session as the
 * agent did. Real SDK → local Daytona emulator → bwrap → real claude.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useDaytona } from '../helpers/daytona.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const d = useDaytona();

describe('daytona sandboxes after their CLI died', () => {
  it('survives a SIGKILLed CLI: cleanup keeps it while the agent works, logs --follow resumes, health and download reach it, kill deletes it', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await d.killedMidRun(home, repo);
    expect(d.sandboxOf(id)?.state).toBe('started');
    await d.expectKeptByCleanup(home, id);
    expect(d.sandboxOf(id)?.state).toBe('started');
    await d.followToEnd(home, id);
    const h = await d.health(home, id);
    expect(h).toMatchObject({ status: 'orphaned', provider: 'daytona', memoryLimitBytes: 4 * 2 ** 30, keyProtection: expect.stringMatching(/env var only/) as unknown });
    expect(h.sandboxCostUsd).toBeGreaterThan(0);
    await d.expectLiveDownload(home, id);
    await d.killKeepingWork(home, repo, id);
    expect(d.sandboxOf(id)?.state).toBe('destroyed');
  });

  it('a sandbox auto-stopped after its CLI died is started again by reattach, which lands the work its files hold', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await d.killedMidRun(home, repo);
    const sandboxId = d.sandboxOf(id)?.id ?? '';
    // What Daytona's auto-stop does to a sandbox nobody keeps active: processes gone, files kept.
    d.emulator().stopSandbox(sandboxId);
    expect(d.sandboxOf(id)?.state).toBe('stopped');
    const r = await runCli(['sandbox', 'reattach', '--session-id', id, '--json'], { env: d.env(home) });
    expect(d.emulator().requests.some((q) => q.method === 'POST' && q.path === `/sandbox/${sandboxId}/start`)).toBe(true);
    const row = await d.statusRow(home, id);
    // The agent died with the stop: the session is failed with that said, and its work so far lands.
    expect(r.code, r.stderr).toBe(0);
    expect(row.status).toBe('failed');
    expect(String(row.error)).toMatch(/while its parallel-cc process was gone; work recovered by `sandbox reattach`/);
    expect(git(repo, 'show', `${String(row.branch)}:first.txt`)).toBe('first');
    expect(d.sandboxOf(id)?.state).toBe('destroyed');
  });

  it('reattach after a SIGKILLed CLI streams the rest of the agent and lands its work; cleanup then removes orphans by label only', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await d.killedMidRun(home, repo);
    const r = await runCli(['sandbox', 'reattach', '--session-id', id], { env: d.env(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/→ Write .*second\.txt/);
    expect(r.stdout).toMatch(new RegExp(`Session ${id} COMPLETED`));
    const row = await d.statusRow(home, id);
    expect(row.status).toBe('completed');
    expect(git(repo, 'show', `${String(row.branch)}:second.txt`)).toBe('second');
    expect(d.sandboxOf(id)?.state).toBe('destroyed');
    // A sandbox left with the labels of an ended session of this registry goes; one without our labels is not ours.
    const api = d.emulator().apiUrl;
    const make = async (labels: Record<string, string>): Promise<string> => ((await (await fetch(`${api}/sandbox`, { method: 'POST', headers: { authorization: `Bearer ${d.env(home).DAYTONA_API_KEY ?? ''}`, 'content-type': 'application/json' }, body: JSON.stringify({ labels }) })).json()) as { id: string }).id;
    const orphan = await make({ 'parallel-cc.session': id, 'parallel-cc.repo': repo });
    const foreign = await make({ team: 'other' });
    const cleanup = await runCli(['cleanup', '--json'], { env: d.env(home) });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect((JSON.parse(cleanup.stdout) as { actions: unknown[] }).actions).toContainEqual(expect.objectContaining({ kind: 'sandbox', target: orphan, action: 'removed' }));
    const states = Object.fromEntries(d.emulator().sandboxes().map((s) => [s.id, s.state]));
    expect(states[orphan]).toBe('destroyed');
    expect(states[foreign]).not.toBe('destroyed');
  });
});
