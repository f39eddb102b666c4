/* eslint-disable no-control-regex -- checks that no escape reached the output */
/**
 * A single run shows it is alive during a long tool call (issue #15): on a TTY a spinner with the
 * current step and its elapsed time (driven in tmux), otherwise a heartbeat line per quiet interval
 * (PARALLEL_CC_HEARTBEAT_SECONDS, short here); neither with --json. And `--multi` on a TTY leaves
 * no stale "running" line after Ctrl-C. Real claude, scripted model.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { BIN, parseNdjson, runCli } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';
import { startTmux, tmuxReady } from '../helpers/tmux.js';

const sleepFor = (s: number): Scenario => ({ steps: [{ toolUses: [{ name: 'Bash', input: { command: `sleep ${s}`, timeout: 60_000 } }] }, { text: 'done' }] });
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Bash sleep 10 · (\d+)s/;

let server: ModelServer | undefined;
const cleanup: Array<() => void> = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const f of cleanup.splice(0)) f();
});

async function setup(scenario: Scenario, extra: NodeJS.ProcessEnv = {}): Promise<{ repo: string; home: string; env: NodeJS.ProcessEnv }> {
  server = await startModelServer({ scenario });
  const repo = makeRepo({ 'README.md': '# t\n' });
  const home = tempDir('pcc-home-');
  cleanup.push(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  return { repo, home, env: { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}`, ...extra } };
}

describe('a single run shows it is alive', () => {
  it.skipIf(!tmuxReady())('on a TTY: a spinner with the elapsed time of the current step during a 10 s tool call, gone afterwards', async () => {
    const { repo, env } = await setup(sleepFor(10));
    const t = startTmux({ ...env, TERM: 'tmux-256color' });
    cleanup.push(() => t.close());
    t.type(`exec node '${BIN}' sandbox run --repo '${repo}' --prompt 'wait a bit' --timeout 5`);
    const seen = new Set<number>();
    const end = Date.now() + 90_000;
    while (t.display('#{pane_dead}') !== '1' && Date.now() < end) {
      const m = SPINNER.exec(t.capture({ history: false }));
      if (m) seen.add(Number(m[1]));
      await new Promise((r) => setTimeout(r, 400));
    }
    await t.waitDead(10_000);
    const values = [...seen].sort((a, b) => a - b);
    // The elapsed time moved while the tool ran, up to (almost) its 10 s.
    expect(values.length, `seen ${JSON.stringify(values)}\n${t.capture()}`).toBeGreaterThanOrEqual(5);
    expect(Math.max(...values)).toBeGreaterThanOrEqual(7);
    const screen = t.capture();
    expect(screen).toMatch(/Session +[0-9a-f]{8} COMPLETED/);
    // Cleared before every other line and at the end: no frame is left on the screen.
    expect(screen).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(screen).toContain('→ Bash sleep 10');
  });

  it('not on a TTY: heartbeat lines on stderr at the (injected) interval; none with --json', async () => {
    const { repo, env } = await setup(sleepFor(4), { PARALLEL_CC_HEARTBEAT_SECONDS: '1', NO_COLOR: '1' });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'wait a bit', '--timeout', '5'], { env });
    expect(r.code, r.stderr).toBe(0);
    const beats = r.stderr.split('\n').filter((l) => l.startsWith('… still working: Bash sleep 4 ('));
    expect(beats.length, r.stderr).toBeGreaterThanOrEqual(2);
    expect(beats.every((l) => /\(\d+s\)$/.test(l))).toBe(true);
    expect(r.stdout).not.toContain('still working');
    expect(r.stdout + r.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\u001b/);

    server?.setScenario(sleepFor(3));
    const j = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'wait a bit', '--timeout', '5', '--json'], { env });
    expect(j.code, j.stderr).toBe(0);
    expect(j.stderr + j.stdout).not.toContain('still working');
    expect(parseNdjson(j.stdout).some((e) => e.type === 'summary')).toBe(true);
  });
});

// Claude Code refuses a bare long `sleep`; a node timer is a long-running command it accepts.
const LONG_COMMAND = `node -e "setTimeout(() => {}, 600000)"`;

describe.skipIf(!tmuxReady())('Ctrl-C on a TTY', () => {
  it('a single run: the spinner steps aside before the notice, no frame is left behind', async () => {
    const { repo, env } = await setup({ steps: [{ toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND, timeout: 600_000 } }] }] });
    const t = startTmux({ ...env, TERM: 'tmux-256color' });
    cleanup.push(() => t.close());
    t.type(`exec node '${BIN}' sandbox run --repo '${repo}' --prompt 'wait' --timeout 5`);
    const deadline = Date.now() + 60_000;
    while (!/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Bash node/.test(t.capture({ history: false })) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 300));
    t.key('C-c');
    await t.waitDead(60_000);
    const screen = t.capture();
    expect(screen).toMatch(/Session +[0-9a-f]{8} KILLED/);
    expect(screen).toMatch(/^parallel-cc: SIGINT received/m);
    expect(screen, screen).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
  });

  it('--multi: no stale "running" line, the live block gives way to the final states', async () => {
    const { repo, home, env } = await setup({ steps: [{ toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND, timeout: 600_000 } }] }] });
    const out = join(home, 'results');
    const t = startTmux({ ...env, TERM: 'tmux-256color' });
    cleanup.push(() => t.close());
    t.type(`exec node '${BIN}' sandbox run --repo '${repo}' --multi --task a --task b --output-dir '${out}' --timeout 5`);
    const deadline = Date.now() + 60_000;
    const bothRunning = (s: string): boolean => /^task-1 +running .*→ Bash/m.test(s) && /^task-2 +running .*→ Bash/m.test(s);
    while (!bothRunning(t.capture({ history: false })) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 300));
    expect(bothRunning(t.capture({ history: false })), t.capture()).toBe(true);
    t.key('C-c');
    await t.waitDead(60_000);
    const screen = t.capture();
    if (process.env.SHOW_SCREEN) console.log(screen);
    expect(screen).toMatch(/SIGINT received/);
    expect(screen).toMatch(/^task-1 +killed /m); // the summary table
    // No line of the live block still says "running" (nor initializing/queued) once the batch ended.
    expect(screen, screen).not.toMatch(/^task-\d +(running|initializing|queued) /m);
  });
});
