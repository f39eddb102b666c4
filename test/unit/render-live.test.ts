/* eslint-disable no-control-regex -- these tests are about control characters */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heartbeatMs, Renderer } from '../../src/cli/render.js';
import { MultiRenderer } from '../../src/cli/render-multi.js';
import { statusLines } from '../../src/cli/render-ops.js';
import type { StatusOutput } from '../../src/cli/commands/status.js';
import type { SessionView } from '../../src/core/ops/view.js';

const ESC = String.fromCharCode(27);
const CLEAR = `${ESC}[1G${ESC}[2K`;
const SGR = /\u001b\[[0-9;]*m/g;

/** stdout and stderr writing into one log, in order, as on a terminal. */
function terminal(tty: boolean): { log: string[]; out: { write(s: string): void; isTTY: boolean; columns: number }; err: { write(s: string): void; isTTY: boolean; columns: number } } {
  const log: string[] = [];
  const mk = (name: string) => ({ isTTY: tty, columns: 80, write: (s: string): void => void log.push(`${name}:${s}`) });
  return { log, out: mk('out'), err: mk('err') };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('a single run shows it is alive', () => {
  it('on a TTY: a spinner with the step and its elapsed time, erased before any other line', () => {
    const t = terminal(true);
    const r = new Renderer({ json: false, stdout: t.out, stderr: t.err, env: {}, progress: { heartbeatMs: 30_000 } });
    r.event({ type: 'phase', phase: 'running', message: 'running claude (timeout 60 min)' });
    r.event({ type: 'tool_use', id: 't', name: 'Bash', input: { command: 'sleep 10' } });
    vi.advanceTimersByTime(7_200);
    const spinner = t.log.filter((l) => l.startsWith('err:') && l.includes('Bash sleep 10'));
    expect(spinner.at(-1)?.replace(SGR, '')).toMatch(/^err:\u001b\[1G\u001b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Bash sleep 10 · 7s$/);
    expect(spinner.length).toBeGreaterThan(20); // redrawn while the tool runs
    const before = t.log.length;
    r.event({ type: 'tool_result', toolUseId: 't', content: 'done', isError: false });
    // The spinner is erased, the line printed, then the spinner comes back (a new step: thinking).
    expect(t.log[before]).toBe(`err:${CLEAR}`);
    expect(t.log[before + 1]?.replace(SGR, '')).toBe('out:  ✓ done\n');
    expect(t.log[before + 2]?.replace(SGR, '')).toMatch(/the agent is thinking · 0s$/);
    r.summary({ sessionId: 's', status: 'completed', exitCode: 0, repo: '/r', branch: 'b', worktree: null, baseCommit: 'c', commits: 0, filesChanged: [], costUsd: null, usage: null, durationMs: 1, logPath: '/l', egressDenied: 0 });
    const after = t.log.length;
    vi.advanceTimersByTime(5_000);
    expect(t.log.length).toBe(after); // stopped: no more frames
    expect(t.log.filter((l) => l.startsWith('out:')).join('')).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
  });

  it('the spinner line never exceeds the terminal width', () => {
    const t = terminal(true);
    t.err.columns = 40;
    const r = new Renderer({ json: false, stdout: t.out, stderr: t.err, env: {}, progress: { heartbeatMs: 30_000 } });
    r.event({ type: 'tool_use', id: 't', name: 'Bash', input: { command: `echo ${'x'.repeat(200)}` } });
    const last = (t.log.at(-1) ?? '').replace(SGR, '').replace(CLEAR, '').slice('err:'.length);
    expect(last.length).toBeLessThan(40);
    expect(last).toMatch(/… · 0s$/);
    r.close();
  });

  it('Ctrl-C: the spinner is erased before the interrupt notice', () => {
    const t = terminal(true);
    const ac = new AbortController();
    const r = new Renderer({ json: false, stdout: t.out, stderr: t.err, env: {}, progress: { heartbeatMs: 30_000, signal: ac.signal } });
    r.event({ type: 'tool_use', id: 't', name: 'Bash', input: { command: 'sleep 10' } });
    ac.abort();
    expect(t.log.at(-1)).toBe(`err:${CLEAR}`);
    r.close();
  });

  it('not on a TTY: a heartbeat line after each quiet interval, no spinner, no escapes', () => {
    const t = terminal(false);
    const r = new Renderer({ json: false, stdout: t.out, stderr: t.err, env: {}, progress: { heartbeatMs: 1_000 } });
    r.event({ type: 'tool_use', id: 't', name: 'Bash', input: { command: 'sleep 10' } });
    vi.advanceTimersByTime(500);
    r.event({ type: 'warning', message: 'something' }); // output resets the quiet interval
    vi.advanceTimersByTime(3_100);
    const beats = t.log.filter((l) => l.includes('still working'));
    expect(beats).toEqual(['err:… still working: Bash sleep 10 (1s)\n', 'err:… still working: Bash sleep 10 (2s)\n', 'err:… still working: Bash sleep 10 (3s)\n']);
    expect(t.log.join('')).not.toContain(ESC);
    r.close();
    vi.advanceTimersByTime(5_000);
    expect(t.log.filter((l) => l.includes('still working'))).toHaveLength(3);
  });

  it('the heartbeat interval is 30 s unless PARALLEL_CC_HEARTBEAT_SECONDS says otherwise', () => {
    expect(heartbeatMs({})).toBe(30_000);
    expect(heartbeatMs({ PARALLEL_CC_HEARTBEAT_SECONDS: '1.5' })).toBe(1_500);
    expect(heartbeatMs({ PARALLEL_CC_HEARTBEAT_SECONDS: 'soon' })).toBe(30_000);
    expect(heartbeatMs({ PARALLEL_CC_HEARTBEAT_SECONDS: '0' })).toBe(30_000);
  });

  it('--json: neither spinner nor heartbeat, stdout is only the events', () => {
    const t = terminal(true);
    const r = new Renderer({ json: true, stdout: t.out, stderr: t.err, env: {}, progress: { heartbeatMs: 100 } });
    r.event({ type: 'tool_use', id: 't', name: 'Bash', input: { command: 'sleep 10' } });
    vi.advanceTimersByTime(5_000);
    expect(t.log).toEqual([`out:${JSON.stringify({ type: 'tool_use', id: 't', name: 'Bash', input: { command: 'sleep 10' } })}\n`]);
  });
});

describe('--multi on a TTY and Ctrl-C', () => {
  it('erases the live block before the notice and goes on with plain lines: no stale "running" line', () => {
    const t = terminal(true);
    const ac = new AbortController();
    const r = new MultiRenderer({ json: false, stream: true, stdout: t.out, stderr: t.err, env: { NO_COLOR: '1' }, taskIds: ['a', 'b'], redrawMs: 0, signal: ac.signal });
    r.event({ type: 'task', taskId: 'a', state: 'running', detail: 'running claude' });
    r.event({ type: 'task', taskId: 'b', state: 'running', detail: 'running claude' });
    ac.abort();
    expect(t.log.at(-1)).toBe(`err:${ESC}[1G${ESC}[2A${ESC}[J`);
    const mark = t.log.length;
    r.event({ type: 'task', taskId: 'a', state: 'killed', detail: 'stopped' });
    vi.advanceTimersByTime(3_000);
    r.close();
    const rest = t.log.slice(mark).join('');
    expect(rest).toBe('err:[a] killed stopped\n');
  });
});

const row = (over: Partial<SessionView>): SessionView =>
  ({
    id: 'abcd1234', kind: 'sandbox', repoPath: '/repo', provider: 'native', status: 'running', liveness: 'active', ownerAlive: true,
    elapsedMs: 65_000, ageMs: 70_000, timeoutSeconds: 3600, costUsd: 0.0123, sandboxCostUsd: null, lastActivity: 'Bash npm test --watch=false',
    promptExcerpt: 'refactor the whole authentication layer so that it uses the new token service and update every caller',
    worktreePath: `/home/user/.parallel-cc/worktrees/${'deep/'.repeat(20)}abcd1234`, sandboxId: 'pcc-abcd1234-sandbox', error: null, pid: 4242,
    ...over,
  }) as SessionView;

describe('status table', () => {
  const out: StatusOutput = { total: 2, repos: [{ repo: `/home/user/${'projects/'.repeat(12)}app`, sessions: [row({}), row({ id: 'ffff0000', status: 'failed', liveness: 'orphaned', error: `boom ${ESC}]52;c;eA==\u0007 ${'x'.repeat(200)}` })] }] };

  it('fits 80 columns on a TTY, cutting prompts and paths with …', () => {
    const lines = statusLines(out, { paint: (_c, s) => s, columns: 80 });
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).toContain('…');
    expect(lines.some((l) => /abcd1234 +native +running/.test(l))).toBe(true);
    expect(lines.some((l) => /ffff0000 +native +orphaned /.test(l))).toBe(true);
    expect(lines.some((l) => /worktree …[a-z/]+\/abcd1234$/.test(l))).toBe(true);
    expect(lines.join('')).not.toContain(ESC);
    expect(lines.join('')).toContain('^[]52;c;eA==^G');
  });

  it('keeps full columns when not a terminal', () => {
    const lines = statusLines(out, { paint: (_c, s) => s });
    expect(lines.join('\n')).toContain('ELAPSED/TIMEOUT');
    expect(lines.join('\n')).toContain(String(row({}).worktreePath));
  });
});

