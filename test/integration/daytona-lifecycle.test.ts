/**
 * Daytona's lifecycle against a run: auto-stop counts API activity only, so a long agent run must
 * keep its sandbox active or Daytona stops it mid-task; an orphan stops by itself and is then
 * auto-deleted. The emulator's lifecycle minute is half a second here, so a 20-minute run takes 10 s.
 */
import { describe, expect, it } from 'vitest';
import { runCli, summaryOf } from '../helpers/cli.js';
import { bash, useDaytona } from '../helpers/daytona.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';

const MINUTE_MS = 500;
const d = useDaytona({ minuteMs: MINUTE_MS });
// 20 lifecycle minutes of work with auto-stop after 1 minute without API activity.
const LONG = { steps: [bash('echo start > w.txt'), bash(`node -e "setTimeout(() => {}, ${20 * MINUTE_MS})"`, 60000), bash('echo end >> w.txt'), { text: 'done' }] };
const run = (home: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'long', '--provider', 'daytona', '--skip-claude-update', ...extra, '--json'], { env: d.env(home, { PARALLEL_CC_DAYTONA_AUTO_STOP: '1', ...env }) });

describe('daytona auto-stop and auto-delete', () => {
  it('a 20-minute run is not auto-stopped after 1 minute: the provider keeps the sandbox active while the agent works', async () => {
    await d.serve(LONG);
    const r = await run(tempDir(), { PARALLEL_CC_DAYTONA_KEEPALIVE: '0.1' });
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('completed');
    expect(d.sandboxOf(String(s.sessionId))).toMatchObject({ autoStopInterval: 1, stoppedBy: 'delete' });
  });

  it('without activity calls the same run is stopped mid-task by auto-stop and fails with that reason (the emulator enforces it)', async () => {
    await d.serve(LONG);
    const r = await run(tempDir(), { PARALLEL_CC_DAYTONA_KEEPALIVE: '600' });
    expect(r.code, r.stderr).toBe(3);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('failed');
    // Stopped wherever the first pause longer than a lifecycle minute fell: mid-agent (diagnosed), or already while uploading.
    expect(String(s.error)).toMatch(/the Daytona sandbox \S+ is stopped|is not started \(state stopped\)/);
    expect(d.sandboxOf(String(s.sessionId))?.stoppedBy).toBe('auto-stop');
  });

  it('an orphan (--no-cleanup, no CLI) stops by itself, then is auto-deleted: it never bills forever', async () => {
    await d.serve({ steps: [bash('echo x > x.txt'), { text: 'done' }] });
    const r = await run(tempDir(), { PARALLEL_CC_DAYTONA_AUTO_DELETE: '1', PARALLEL_CC_DAYTONA_KEEPALIVE: '0.1' }, ['--no-cleanup']);
    expect(r.code, r.stderr).toBe(0);
    const id = String(summaryOf(r.stdout).sessionId);
    expect(d.sandboxOf(id)?.state).not.toBe('destroyed');
    await expect.poll(() => d.sandboxOf(id)?.state, { timeout: 10 * MINUTE_MS, interval: 100 }).toBe('destroyed');
    expect(d.sandboxOf(id)).toMatchObject({ stoppedBy: 'auto-stop', autoDeleteInterval: 1 });
  });
});
