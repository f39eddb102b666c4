import { describe, expect, it } from 'vitest';
import { Renderer } from '../../src/cli/render.js';
import type { StreamEvent } from '../../src/core/events.js';

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
