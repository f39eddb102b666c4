/**
 * `kill -9` of a running CLI, then `parallel-cc cleanup` at once — before anything reaped the dead
 * CLI (its parent here never does: a zombie still answers signal 0). Cleanup must see the session
 * as orphaned and finish it, and nothing of it may be left: no sandbox folder (workspace, sockets)
 * under the sandbox root, nothing in the CLI's TMPDIR.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { BIN, parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

type Json = Record<string, unknown>;

let server: ModelServer;
beforeAll(async () => {
  server = await startModelServer({
    scenario: {
      steps: [
        { toolUses: [{ name: 'Bash', input: { command: "echo work > work.txt && git add work.txt && git commit -qm 'agent commit' && echo COMMITTED" } }] },
        { toolUses: [{ name: 'Bash', input: { command: `node -e "setTimeout(() => {}, 600000)"`, timeout: 600000 } }] },
      ],
    },
  });
});
afterAll(async () => {
  await server.close();
});

const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe.each(PROVIDERS)('cleanup right after a SIGKILL of the CLI (%s)', (provider) => {
  it('finishes the session and leaves no sandbox or socket folder behind', async () => {
    const repo = makeRepo({ 'README.md': '# r\n' });
    const home = tempDir('pcc-kc-home-');
    // The CLI's own temp folder and sandbox root are private to this test, so "nothing left" is exact.
    const tmp = tempDir('pcc-kc-tmp-');
    const root = tempDir('pcc-kc-root-');
    const env = { ...process.env, TMPDIR: tmp, PARALLEL_CC_HOME: home, PARALLEL_CC_SANDBOX_ROOT: root, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-kc-${'k'.repeat(20)}`, NO_COLOR: '1' };
    // The CLI's parent is a `sleep` that never waits for it, so the killed CLI stays a zombie.
    const parent = spawn('/bin/sh', ['-c', 'node "$@" & echo "pid=$!"; exec sleep 600', 'sh', BIN, 'sandbox', 'run', '--repo', repo, '--prompt', 'work', '--json', '--provider', provider], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const cliPid = await new Promise<number>((resolve, reject) => {
        let pid = 0;
        parent.on('exit', () => reject(new Error(`the CLI's parent exited early: ${out}`)));
        parent.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          pid ||= Number(/^pid=(\d+)$/m.exec(out)?.[1] ?? 0);
          const events = parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1).replace(/^pid=\d+\n/m, ''));
          if (pid && events.filter((e) => e.type === 'tool_use').length >= 2) resolve(pid);
        });
      });
      process.kill(cliPid, 'SIGKILL');
      // A SIGKILLed process takes a moment to die on a loaded machine: wait for the zombie, no fixed sleep.
      await expect.poll(() => readFileState(cliPid), { timeout: 30_000, interval: 20 }).toBe('Z');

      const clean = await runCli(['cleanup', '--json'], { env });
      expect(clean.code, clean.stderr).toBe(0);
      const actions = (JSON.parse(clean.stdout) as { actions: Json[] }).actions;
      const session = actions.find((a) => a.kind === 'session');
      expect(session, JSON.stringify(actions)).toMatchObject({ action: 'finished' });
      const id = String(session?.target);
      expect(git(repo, 'log', '--format=%s', `parallel-cc/${id}`)).toContain('agent commit');
      // Nothing left: no sandbox folder (workspace, home, sockets), nothing in the CLI's TMPDIR.
      expect(readdirSync(root)).toEqual([]);
      expect(readdirSync(tmp)).toEqual([]);
      if (provider === 'docker') expect(leftoverContainers([id])).toEqual([]);
      const again = await runCli(['cleanup', '--dry-run', '--json'], { env });
      // Nothing left to do; the branch with the agent's commit is kept (and says why), never removed.
      const left = (JSON.parse(again.stdout) as { actions: Json[] }).actions;
      expect(left.filter((a) => a.action !== 'kept')).toEqual([]);
      expect(left).toEqual([expect.objectContaining({ kind: 'branch', action: 'kept', target: expect.stringContaining(`parallel-cc/${id}`) as unknown })]);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

/** The process state letter from /proc/<pid>/stat (Z: a zombie). */
function readFileState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
