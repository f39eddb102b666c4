/**
 * `--keep-on-error` (spec 002's cleanup_on_error: false, also a workflow's `cleanupOnError: false`):
 * the sandbox of a run that did not complete stays for inspection until `cleanup`; a run that
 * completed is cleaned up as usual.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const rowOf = async (env: NodeJS.ProcessEnv, id: string): Promise<Record<string, unknown> | undefined> =>
  (JSON.parse((await runCli(['status', '--all', '--json'], { env })).stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> }).repos.flatMap((g) => g.sessions).find((s) => s.id === id);

describe('--keep-on-error', () => {
  it('keeps a failed run’s sandbox until cleanup and removes a completed one’s; a workflow’s cleanupOnError: false does the same', async () => {
    const env = { ...process.env, PARALLEL_CC_HOME: tempDir(), NO_COLOR: '1' };
    const repo = makeRepo();
    const run = async (command: string) => {
      const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'command', '--agent-command', command, '--keep-on-error', '--json'], { env });
      const id = String((parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as { sessionId: string }).sessionId);
      return { r, row: await rowOf(env, id) };
    };
    const failed = await run('sh -c "echo x > x.txt; exit 7"');
    expect(failed.r.code).toBe(1);
    expect(existsSync(String(failed.row?.sandboxDir))).toBe(true);
    const ok = await run('true');
    expect(ok.r.code, ok.r.stderr).toBe(0);
    expect(existsSync(String(ok.row?.sandboxDir))).toBe(false);
    const cleanup = await runCli(['cleanup', '--json'], { env });
    expect((JSON.parse(cleanup.stdout) as { actions: Array<Record<string, unknown>> }).actions).toContainEqual(expect.objectContaining({ kind: 'sandbox', target: failed.row?.sandboxDir, action: 'removed' }));
    expect(existsSync(String(failed.row?.sandboxDir))).toBe(false);
    // The same through a saved workflow.
    writeFiles(String(env.PARALLEL_CC_HOME), { 'workflows/keep.json': JSON.stringify({ version: 1, name: 'keep', cleanupOnError: false, run: { repo, prompt: 'p', agentCli: 'command', agentCommand: 'false' } }) });
    const wf = await runCli(['workflow', 'run', 'keep', '--json'], { env });
    expect(wf.code).toBe(1);
    const id = String((parseNdjson(wf.stdout).find((e) => e.type === 'summary')?.summary as { sessionId: string }).sessionId);
    const kept = String((await rowOf(env, id))?.sandboxDir);
    expect(existsSync(kept)).toBe(true);
    expect((await runCli(['cleanup'], { env })).code).toBe(0);
    expect(existsSync(kept)).toBe(false);
  });
});
