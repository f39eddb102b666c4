import { describe, expect, it } from 'vitest';
import { assistantUsage } from '../../src/agents/claude/usage.js';
import { MultiRenderer, stripAnsi } from '../../src/cli/render-multi.js';
import { summaryMarkdown } from '../../src/core/multi/output.js';
import type { MultiSummary, TaskResult } from '../../src/core/multi/types.js';
import { CostMeter, estimateCost, priceOf } from '../../src/core/pricing.js';
import { AppError } from '../../src/errors.js';

const ESC = String.fromCharCode(27);
const sink = (isTTY: boolean): { write(s: string): void; isTTY: boolean; text: string } => {
  const o = { text: '', isTTY, write: (s: string): void => void (o.text += s) };
  return o;
};

const result = (taskId: string, extra: Partial<TaskResult> = {}): TaskResult => ({
  taskId,
  sessionId: `s-${taskId}`,
  status: 'completed',
  exitCode: 0,
  base: 'HEAD',
  after: [],
  branch: `parallel-cc/${taskId}`,
  worktree: '/wt',
  commits: 1,
  filesChanged: ['a.txt'],
  durationMs: 2000,
  costUsd: 0.01,
  usage: null,
  startedAt: null,
  completedAt: null,
  logPath: null,
  outputDir: `/out/${taskId}`,
  ...extra,
});

const summary = (tasks: TaskResult[]): MultiSummary => ({
  groupId: 'g1',
  repo: '/repo',
  outputDir: '/out',
  startedAt: '',
  completedAt: '',
  wallMs: 3000,
  taskTimeMs: 6000,
  timeSavedMs: 3000,
  totalCostUsd: 0.02,
  counts: { completed: 1, failed: 1 },
  exitCode: 1,
  interrupted: false,
  tasks,
});

describe('summary.md', () => {
  it('has a row per task, wall vs task time, and the problems with their hints', () => {
    const md = summaryMarkdown(
      summary([result('a'), result('b|c', { status: 'failed', exitCode: 1, branch: null, costUsd: null, error: { reason: 'agent_failed', message: 'boom', hint: 'retry' } })]),
    );
    expect(md).toContain('| a | completed | 2.0s | $0.0100 | `parallel-cc/a` | 1 | s-a |');
    expect(md).toContain('| b\\|c | failed | 2.0s | n/a | - | 1 | s-b|c |');
    expect(md).toContain('Wall time: 3.0s · sum of task times: 6.0s · time saved: 3.0s (2.0× ');
    expect(md).toContain('- **b\\|c** (failed, agent_failed): boom — retry');
  });
});

describe('MultiRenderer', () => {
  const feed = (r: MultiRenderer): void => {
    r.event({ type: 'task', taskId: 'a', state: 'queued' });
    r.event({ type: 'task', taskId: 'a', state: 'running', detail: 'running claude' });
    r.event({ type: 'task_event', taskId: 'a', event: { type: 'tool_use', id: 't', name: 'Bash', input: { command: 'npm test' } } });
    r.event({ type: 'task', taskId: 'a', state: 'running', detail: 'Bash' });
    r.event({ type: 'task', taskId: 'a', state: 'completed', result: result('a') });
  };

  it('prints one plain line per event when not a TTY, without colour', () => {
    const err = sink(false);
    const r = new MultiRenderer({ json: false, stream: true, stdout: sink(false), stderr: err, env: {}, taskIds: ['a'] });
    feed(r);
    r.close();
    expect(err.text.split('\n').filter(Boolean)).toEqual(['[a] queued', '[a] running claude', '[a] running → Bash npm test', '[a] completed 2.0s · $0.0100 · parallel-cc/a (1 commit)']);
    expect(err.text).not.toContain(ESC);
  });

  it('redraws the task lines in place on a TTY, coloured unless NO_COLOR', () => {
    const err = sink(true);
    const r = new MultiRenderer({ json: false, stream: true, stdout: sink(true), stderr: err, env: {}, taskIds: ['a', 'bb'], redrawMs: 0 });
    feed(r);
    r.close();
    expect(err.text).toContain(`${ESC}[2A`);
    expect(err.text).toContain(`${ESC}[32m`);
    const last = stripAnsi(err.text.split(`${ESC}[2A`).at(-1) ?? '');
    expect(last.replace(new RegExp(`${ESC}\\[2K`, 'g'), '')).toMatch(/^a +completed +2\.0s · \$0\.0100 · parallel-cc\/a \(1 commit\)\nbb +queued/);
    const plain = sink(true);
    const r2 = new MultiRenderer({ json: false, stream: true, stdout: sink(true), stderr: plain, env: { NO_COLOR: '1' }, taskIds: ['a'], redrawMs: 0 });
    feed(r2);
    r2.close();
    expect(plain.text).toContain(`${ESC}[1A`);
    expect(plain.text).not.toContain(`${ESC}[32m`);
  });

  it('--json: NDJSON tagged with the task id, a final summary, errors with error and hint', () => {
    const out = sink(false);
    const r = new MultiRenderer({ json: true, stream: true, stdout: out, stderr: sink(false), env: {}, taskIds: ['a'] });
    feed(r);
    r.event({ type: 'multi_summary', summary: summary([result('a')]) });
    r.error(new AppError('usage', 'bad flag', { hint: 'fix it' }));
    const lines = out.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[2]).toMatchObject({ taskId: 'a', type: 'tool_use', name: 'Bash' });
    expect(lines.filter((l) => l.type !== 'multi_summary' && l.type !== 'error').every((l) => l.taskId === 'a')).toBe(true);
    expect(lines.at(-2)).toMatchObject({ type: 'multi_summary', summary: { groupId: 'g1' } });
    expect(lines.at(-1)).toEqual({ type: 'error', kind: 'usage', error: 'bad flag', hint: 'fix it' });
  });
});

describe('cost estimate for --budget-per-task', () => {
  it('prices by model family, unknown models at the conservative rate', () => {
    expect(priceOf('claude-sonnet-4-5-20250929').input).toBe(3);
    expect(priceOf('claude-opus-4-1').output).toBe(75);
    expect(priceOf('claude-opus-4-5').output).toBe(25);
    expect(priceOf('claude-haiku-4-5').input).toBe(1);
    expect(priceOf('mystery').input).toBe(5);
    expect(estimateCost('claude-sonnet-4-5', { inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 1_000_000 })).toBeCloseTo(3 + 1.5 + 0.3);
  });

  it('reads usage from stream-json assistant lines and counts each response once', () => {
    const line = (id: string, input: number, output: number, model = 'claude-sonnet-4-5'): string =>
      JSON.stringify({ type: 'assistant', message: { id, model, content: [], usage: { input_tokens: input, output_tokens: output } } });
    expect(assistantUsage('{"type":"result","total_cost_usd":1,"usage":{}}')).toBeUndefined();
    expect(assistantUsage('not json "assistant" "usage"')).toBeUndefined();
    expect(assistantUsage(line('m', 1, 1, '<synthetic>'))).toBeUndefined();
    const meter = new CostMeter();
    for (const l of [line('m1', 100_000, 1), line('m1', 100_000, 1), line('m1', 100_000, 500), line('m2', 200_000, 10)]) {
      const u = assistantUsage(l);
      if (u) meter.add(u.messageId, u.model, u.usage);
    }
    expect(meter.usage()).toMatchObject({ inputTokens: 300_000, outputTokens: 510 });
    expect(meter.costUsd()).toBeCloseTo((300_000 * 3 + 510 * 15) / 1_000_000);
  });
});
