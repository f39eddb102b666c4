/**
 * The TUI in a real terminal (tmux, on a socket of its own): while a `--multi` of 2 tasks runs in
 * another process, `capture-pane` shows both rows and their final states, and `k` on the running
 * row kills that session (the ops kill use case) and its row shows `killed`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { BIN, parseNdjson, startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const LONG = `node -e "setTimeout(() => {}, 600000)"`;
const KEY = `sk-ant-tui-${'t'.repeat(24)}`;
let server: ModelServer | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server?.close();
  server = undefined;
});

describe('dashboard TUI in tmux', () => {
  it('shows both rows of another process, their final states, and k kills the running one', async () => {
    server = await startModelServer({
      scenario: {
        steps: [{ toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/quick.txt', content: 'quick\n' } }] }, { text: 'done' }],
        byPrompt: { 'slow task': [{ toolUses: [{ name: 'Bash', input: { command: LONG, timeout: 600000 } }] }] },
      },
    });
    const repo = makeRepo({ 'README.md': '# tui\n' });
    const home = tempDir('pcc-dtui-home-');
    const out = join(tempDir('pcc-dtui-out-'), 'results');
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1' };
    // ink draws only the last frame where it thinks it runs in CI (is-in-ci): the terminal here is real.
    const tuiEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'CI' && k !== 'CONTINUOUS_INTEGRATION' && !k.startsWith('CI_')));
    const sock = `pcc-dash-${randomBytes(4).toString('hex')}`;
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', sock, ...args], { env: tuiEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    tmux('new-session', '-d', '-s', 'dash', '-x', '200', '-y', '40', process.execPath, BIN, 'dashboard');
    cleanups.push(() => {
      try {
        tmux('kill-server');
      } catch {
        // the dashboard quit (q) and the server with it
      }
    });
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'dash');
    await expect.poll(screen, { timeout: 20_000, interval: 100 }).toContain('No sessions yet');

    const batch = startCli(['sandbox', 'run', '--repo', repo, '--multi', '--max-concurrent', '2', '--output-dir', out, '--json', '--task', 'quick task', '--task', 'slow task'], { env });
    cleanups.push(async () => {
      batch.child.kill('SIGTERM');
      await batch.done;
      for (const wt of git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).slice(1)) git(repo, 'worktree', 'remove', '--force', wt.slice(9));
    });
    let stdout = '';
    batch.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const events = (): Array<Record<string, unknown>> => parseNdjson(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
    await expect.poll(() => events().some((e) => e.taskId === 'task-2' && e.type === 'tool_use'), { timeout: 90_000, interval: 200 }).toBe(true);
    const idOf = (task: string): string => String(events().find((e) => e.taskId === task && typeof e.sessionId === 'string')?.sessionId);
    const [quick, slow] = [idOf('task-1'), idOf('task-2')];
    const rowOf = (id: string): string | undefined => screen().split('\n').find((l) => l.slice(2).startsWith(id));
    await expect.poll(() => rowOf(quick), { timeout: 90_000, interval: 200 }).toMatch(/\bcompleted\b/);
    await expect.poll(() => rowOf(slow), { timeout: 30_000, interval: 200 }).toMatch(/\brunning\b.*Bash node -e/);
    // Select the slow row (j moves down, u up: k is kill), one key at a time, each seen on screen.
    const selectedId = (): string | undefined => screen().split('\n').find((l) => l.startsWith('> '))?.slice(2, 10);
    const order = screen().split('\n').filter((l) => l.slice(2).startsWith(quick) || l.slice(2).startsWith(slow)).map((l) => l.slice(2, 10));
    const target = order.indexOf(slow);
    for (let i = order.indexOf(selectedId() ?? ''); i !== target; i += i < target ? 1 : -1) {
      tmux('send-keys', '-t', 'dash', i < target ? 'j' : 'u');
      const next = order[i < target ? i + 1 : i - 1];
      await expect.poll(selectedId, { timeout: 10_000, interval: 50 }).toBe(next);
    }
    expect(selectedId()).toBe(slow);
    tmux('send-keys', '-t', 'dash', 'k');
    await expect.poll(() => rowOf(slow), { timeout: 120_000, interval: 200 }).toMatch(/\bkilled\b/);
    expect(rowOf(quick)).toMatch(/\bcompleted\b/);
    // The kill use case's own answer, once it returns.
    await expect.poll(screen, { timeout: 60_000, interval: 200 }).toContain(`${slow}: killed`);
    expect((await batch.done).code).toBe(1);
    // d on the completed row: its diff against the base, in the terminal.
    tmux('send-keys', '-t', 'dash', order.indexOf(quick) < target ? 'u' : 'j');
    await expect.poll(selectedId, { timeout: 10_000, interval: 50 }).toBe(quick);
    tmux('send-keys', '-t', 'dash', 'd');
    await expect.poll(screen, { timeout: 30_000, interval: 100 }).toMatch(new RegExp(`diff of ${quick}[\\s\\S]*\\+quick\\n`));
    tmux('send-keys', '-t', 'dash', 'Escape');
    await expect.poll(() => rowOf(quick), { timeout: 10_000, interval: 100 }).toMatch(/\bcompleted\b/);
    tmux('send-keys', '-t', 'dash', 'q');
    await expect.poll(() => { try { return tmux('list-sessions'); } catch { return 'gone'; } }, { timeout: 10_000, interval: 100 }).toBe('gone');
  }, 300_000);
});
