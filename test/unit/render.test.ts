/* eslint-disable no-control-regex -- these tests are about control characters */
import { describe, expect, it } from 'vitest';
import { fmtElapsed, fmtSecondsTenths, humanBytes, plural } from '../../src/core/format.js';
import { Renderer } from '../../src/cli/render.js';
import type { RunSummary, StreamEvent } from '../../src/core/events.js';
import { fmtDuration } from '../../src/core/multi/output.js';
import { AppError } from '../../src/errors.js';

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`);

const sink = (isTTY: boolean): { write(s: string): void; isTTY: boolean; text: string } => {
  const o = { text: '', isTTY, write: (s: string): void => void (o.text += s) };
  return o;
};
const events: StreamEvent[] = [
  { type: 'init', model: 'claude-x', cwd: '/workspace' },
  { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'npm test' } },
  { type: 'tool_result', toolUseId: 't1', content: 'ok\nmore', isError: false },
  { type: 'result', isError: false, costUsd: 0.0123, durationMs: 1500, numTurns: 2, usage: { inputTokens: 10, outputTokens: 5 } },
];

describe('Renderer', () => {
  it('prints readable plain text without ANSI codes when not a TTY', () => {
    const out = sink(false);
    const r = new Renderer({ json: false, stdout: out, stderr: sink(false), env: {} });
    events.forEach((e) => r.event(e));
    expect(out.text).not.toMatch(ANSI);
    expect(out.text).toContain('→ Bash npm test');
    expect(out.text).toContain('✓ ok more');
    expect(out.text).toContain('$0.0123');
  });
  it('uses colour on a TTY unless NO_COLOR is set', () => {
    const tty = sink(true);
    new Renderer({ json: false, stdout: tty, stderr: sink(true), env: {} }).event(events[1] as StreamEvent);
    expect(tty.text).toMatch(ANSI);
    const noColor = sink(true);
    new Renderer({ json: false, stdout: noColor, stderr: sink(true), env: { NO_COLOR: '1' } }).event(events[1] as StreamEvent);
    expect(noColor.text).not.toMatch(ANSI);
  });
  it('writes one JSON object per line in JSON mode', () => {
    const out = sink(true);
    const r = new Renderer({ json: true, stdout: out, stderr: sink(false), env: {} });
    events.forEach((e) => r.event(e));
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(events.length);
    expect(lines.map((l) => JSON.parse(l) as StreamEvent)).toEqual(events);
  });
});

const ESC = String.fromCharCode(27);
const BEL = String.fromCharCode(7);
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const hostile = `pwn${ESC}]52;c;ZWNobyBoaQ==${BEL}${ESC}[2J${ESC}]0;title${BEL}\u009b1A\u202Eevil`;
const hostileEvents: StreamEvent[] = [
  { type: 'text', text: hostile },
  { type: 'tool_use', id: 't1', name: `Bash${ESC}[1A`, input: { command: `echo ${hostile}` } },
  { type: 'tool_result', toolUseId: 't1', content: hostile, isError: false },
  { type: 'stderr', text: hostile },
  { type: 'raw', line: hostile },
  { type: 'warning', message: `commit subject: ${hostile}` },
  { type: 'phase', phase: 'collecting', message: hostile },
];

describe('Renderer and sandbox text (terminal escapes)', () => {
  it('prints every control character from a sandbox as visible text, while its own colours work', () => {
    const out = sink(true);
    const err = sink(true);
    const r = new Renderer({ json: false, stdout: out, stderr: err, env: {} });
    hostileEvents.forEach((e) => r.event(e));
    r.summary({ ...summaryBase, error: `refused: ${hostile}` });
    for (const text of [out.text, err.text]) {
      // The only ESCs left are our own SGR colours.
      expect(text.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(RAW_CONTROL);
      expect(text).toContain('pwn^[]52;c;ZWNobyBoaQ==^G^[[2J^[]0;title^G<U+009B>1A<U+202E>evil');
    }
    expect(out.text).toMatch(/\u001b\[36m→ Bash\^\[\[1A/);
  });
  it('errors quoting sandbox text are escaped too', () => {
    const err = sink(false);
    new Renderer({ json: false, stdout: sink(false), stderr: err, env: {} }).error(new AppError('agent', `bad file ${hostile}`, { hint: `see ${ESC}]52;c;x${BEL}` }));
    expect(err.text).not.toMatch(RAW_CONTROL);
    expect(err.text).toContain('hint: see ^[]52;c;x^G');
  });
  it('--json keeps the exact text (JSON escapes it) and no raw control byte reaches stdout', () => {
    const out = sink(true);
    const r = new Renderer({ json: true, stdout: out, stderr: sink(true), env: {} });
    hostileEvents.slice(0, 5).forEach((e) => r.event(e));
    expect(out.text.replace(/\n/g, '')).not.toMatch(RAW_CONTROL);
    expect(out.text.trimEnd().split('\n').map((l) => JSON.parse(l) as StreamEvent)).toEqual(hostileEvents.slice(0, 5));
  });
});

const summaryBase: RunSummary = {
  sessionId: 'abcd1234',
  status: 'completed',
  exitCode: 0,
  repo: '/repo',
  branch: 'parallel-cc/abcd1234',
  worktree: '/wt',
  baseCommit: '0123456789abcdef',
  commits: 1,
  filesChanged: ['a'],
  costUsd: 0.01,
  usage: null,
  durationMs: -20,
  logPath: '/log',
  egressDenied: 1,
};

describe('Renderer wording', () => {
  it('singular and plural right: 1 turn, 1 commit, 1 file, 1 path, 1 blocked attempt', () => {
    const out = sink(false);
    const r = new Renderer({ json: false, stdout: out, stderr: sink(false), env: {} });
    r.event({ type: 'result', isError: false, numTurns: 1, costUsd: 0, durationMs: 1000 });
    r.summary(summaryBase);
    r.plan({ repo: '/r', base: 'HEAD', provider: 'native', files: [{ path: 'a', size: 1_234_567, kind: 'file' }], totalBytes: 1_234_567, excluded: [{ path: '.env', reason: 'secret' }] } as never);
    expect(out.text).toContain('· 1 turn ·');
    expect(out.text).not.toMatch(/\b1 (turns|commits|files|paths)\b/);
    expect(out.text).toContain('(1 commit, 1 file)');
    expect(out.text).toContain('1 blocked connection attempt\n');
    expect(out.text).toContain('Upload      1 file, 1.2 MB');
    expect(out.text).toContain('Excluded    1 path');
    r.event({ type: 'result', isError: false, numTurns: 3 });
    expect(out.text).toContain('3 turns');
  });
  it('never prints a negative duration or -0.0s', () => {
    const out = sink(false);
    new Renderer({ json: false, stdout: out, stderr: sink(false), env: {} }).summary(summaryBase);
    expect(out.text).toContain('· 0.0s');
    expect(out.text).not.toContain('-0.0s');
  });
});

describe('formatters', () => {
  it('human sizes, plurals, durations', () => {
    expect([0, 999, 1000, 1_234_567, 5_000_000_000].map(humanBytes)).toEqual(['0 B', '999 B', '1.0 kB', '1.2 MB', '5.0 GB']);
    expect(humanBytes(999_960)).toBe('1.0 MB');
    expect(plural(1, 'process', 'processes')).toBe('1 process');
    expect(plural(0, 'path')).toBe('0 paths');
    expect([fmtSecondsTenths(-40), fmtSecondsTenths(-0), fmtSecondsTenths(1250)]).toEqual(['0.0s', '0.0s', '1.3s']);
    expect(fmtDuration(-40)).toBe('0.0s');
    expect([fmtElapsed(7900), fmtElapsed(75_000)]).toEqual(['7s', '1m 15s']);
  });
});
