/**
 * SIGKILL the CLI at 10 different points of a real native run (before the registry row, while the
 * worktree is made, at sandbox creation, upload, agent start, mid-tool, after the agent's commit,
 * while collecting, importing and cleaning up). Afterwards `status` must be truthful, `cleanup` must
 * finish the job, the branch must hold every commit the agent made before the kill, nothing may be
 * left behind, and the user's checkout must be untouched.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

type Json = Record<string, unknown>;
interface KillPoint {
  name: string;
  /** true when this event is where the CLI dies (null: at once after spawn). */
  when: ((e: Json) => boolean) | null;
  scenario: 'holds' | 'finishes';
}

const phase = (p: string) => (e: Json): boolean => e.type === 'phase' && e.phase === p;
const POINTS: KillPoint[] = [
  { name: 'right after start', when: null, scenario: 'holds' },
  { name: 'creating the worktree', when: phase('worktree'), scenario: 'holds' },
  { name: 'creating the sandbox', when: phase('sandbox'), scenario: 'holds' },
  { name: 'uploading', when: phase('upload'), scenario: 'holds' },
  { name: 'starting the agent', when: phase('running'), scenario: 'holds' },
  { name: 'first tool call', when: (e) => e.type === 'tool_use', scenario: 'holds' },
  { name: 'after the agent committed', when: (e) => e.type === 'tool_result' && String(e.content).includes('COMMITTED'), scenario: 'holds' },
  { name: 'collecting results', when: phase('collecting'), scenario: 'finishes' },
  { name: 'importing results', when: phase('importing'), scenario: 'finishes' },
  { name: 'cleaning up', when: phase('cleanup'), scenario: 'finishes' },
];

const commitStep: Scenario['steps'][number] = { toolUses: [{ name: 'Bash', input: { command: "echo work > work.txt && git add work.txt && git commit -qm 'agent commit' && echo COMMITTED" } }] };
const SCENARIOS: Record<KillPoint['scenario'], Scenario> = {
  holds: { steps: [commitStep, { toolUses: [{ name: 'Bash', input: { command: `node -e "setTimeout(() => {}, 600000)"`, timeout: 600000 } }] }] },
  finishes: { steps: [commitStep, { toolUses: [{ name: 'Write', input: { file_path: '/workspace/later.txt', content: 'uncommitted\n' } }] }, { text: 'done' }] },
};

let server: ModelServer;
beforeAll(async () => {
  server = await startModelServer({ scenario: SCENARIOS.holds });
});
afterAll(async () => {
  await server.close();
});

// Native always; docker where a daemon and the test image exist (CI has both). A docker sandbox
// outlives its CLI (the container keeps running), so recovery there reconnects to a live container.
const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe.each(PROVIDERS)('SIGKILL of the CLI at any point (%s)', (provider) => {
  for (const [index, point] of POINTS.entries()) {
    it(`leaves a truthful, recoverable state: ${point.name}`, async () => {
      server.setScenario(SCENARIOS[point.scenario]);
      const repo = makeRepo({ 'README.md': '# r\n' });
      const home = tempDir('pcc-kill-home-');
      const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-kill-${'k'.repeat(20)}`, NO_COLOR: '1' };
      const before = { head: git(repo, 'rev-parse', 'HEAD'), status: git(repo, 'status', '--porcelain') };
      const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--json', '--provider', provider], { env });
      let out = '';
      let killed = false;
      let committedBeforeKill = false;
      const kill = (): void => {
        if (!killed) child.kill('SIGKILL');
        killed = true;
      };
      if (point.when === null) setTimeout(kill, 30);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (killed) return;
        for (const e of parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1))) {
          if (e.type === 'tool_result' && String(e.content).includes('COMMITTED')) committedBeforeKill = true;
          if (point.when?.(e)) return kill();
        }
      });
      const r = await done;
      expect(r.signal === 'SIGKILL' || r.code === 0, `${point.name}: ${r.stderr}`).toBe(true);

      // status is truthful: nothing shows as active; a cut-off session shows as orphaned.
      const list = async (...args: string[]): Promise<Json[]> => {
        const s = await runCli(['status', '--json', ...args], { env });
        expect(s.code, s.stderr).toBe(0);
        return (JSON.parse(s.stdout) as { repos: Array<{ sessions: Json[] }> }).repos.flatMap((g) => g.sessions);
      };
      const rows = await list('--all');
      for (const row of rows) expect(['orphaned', 'ended']).toContain(row.liveness);

      // Every other point takes the session over with `sandbox reattach`; cleanup then finds only leftovers.
      const orphan = rows.find((row) => row.liveness === 'orphaned');
      if (orphan && index % 2 === 1) {
        const re = await runCli(['sandbox', 'reattach', '--session-id', String(orphan.id), '--json'], { env });
        expect(re.code, re.stderr).toBe(0);
        expect(JSON.parse(re.stdout)).toMatchObject({ sessionId: orphan.id, status: 'failed' });
      }
      const clean = await runCli(['cleanup', '--json'], { env });
      expect(clean.code, clean.stderr).toBe(0);
      expect(await list()).toEqual([]);
      const again = await runCli(['cleanup', '--dry-run', '--json'], { env });
      expect((JSON.parse(again.stdout) as { actions: Json[] }).actions.filter((a) => a.action !== 'kept')).toEqual([]);

      const [row] = await list('--all');
      if (row) {
        const id = String(row.id);
        expect(existsSync(join(home, 'sessions', id, 'sandbox'))).toBe(false);
        if (typeof row.sandboxDir === 'string') expect(existsSync(row.sandboxDir)).toBe(false);
        expect(existsSync(`/sys/fs/cgroup/pids/parallel-cc/native-${id}`)).toBe(false);
        if (provider === 'docker') expect(leftoverContainers([id])).toEqual([]);
        if (committedBeforeKill) expect(git(repo, 'log', '--format=%s', `parallel-cc/${id}`)).toContain('agent commit');
        if (point.scenario === 'finishes' && committedBeforeKill) expect(git(repo, 'show', `parallel-cc/${id}:work.txt`)).toBe('work');
        // The only worktrees are the user's checkout and, when there is work, the session's.
        const worktrees = git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '));
        expect(worktrees.length).toBe(row.worktreePath ? 2 : 1);
      }
      expect(git(repo, 'rev-parse', 'HEAD')).toBe(before.head);
      expect(git(repo, 'status', '--porcelain')).toBe(before.status);
    });
  }
});
