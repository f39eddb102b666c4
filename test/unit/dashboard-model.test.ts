/** The dashboard's read model (core/dashboard): rows, fleet, attention lane, hostile text, tailing. */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { emptyDigest, foldEgress, foldEvent, stepLabel } from '../../src/core/dashboard/digest.js';
import { buildModel, buildRow } from '../../src/core/dashboard/model.js';
import { AttentionWatch, notifyCommand } from '../../src/core/dashboard/notify.js';
import { FileTail } from '../../src/core/dashboard/tail.js';
import type { Session } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();
const session = (over: Partial<Session>): Session =>
  ({ id: 'aaaa1111', kind: 'sandbox', repoPath: '/r', provider: 'native', agent: 'claude', status: 'running', pid: 42, createdAt: ago(60_000), startedAt: ago(50_000), updatedAt: ago(1000), completedAt: null, costUsd: null, sandboxCostUsd: null, inputTokens: null, outputTokens: null, commits: null, filesChanged: null, heartbeatAt: null, lastActivityAt: null, taskId: null, groupId: null, branch: null, worktreePath: null, error: null, reason: null, ...over }) as Session;
const alive = (): boolean => true;
const dead = (): boolean => false;

describe('dashboard rows', () => {
  it('a running row with a live owner is running; with a dead owner it is orphaned and in the attention lane', () => {
    const d = emptyDigest();
    foldEvent(d, JSON.stringify({ type: 'tool_use', id: 't', name: 'Edit', input: { file_path: '/workspace/src/auth.ts' }, ts: ago(2000) }), NOW.getTime());
    const up = buildRow(session({}), d, undefined, NOW, { alive });
    expect(up).toMatchObject({ state: 'running', step: 'Edit src/auth.ts', filesChanged: 1, inStateMs: 50_000, heartbeatAgeMs: 2000, attention: null });
    const gone = buildRow(session({}), d, undefined, NOW, { alive: dead });
    expect(gone).toMatchObject({ state: 'orphaned', status: 'running', attention: 'orphaned' });
    const m = buildModel([gone], NOW);
    expect(m.fleet).toMatchObject({ running: 0, orphaned: 1, concurrency: 0 });
    expect(m.attention[0]?.message).toMatch(/^orphaned — `parallel-cc cleanup` or `parallel-cc sandbox reattach aaaa1111`/);
  });

  it('attention: failed, timed out, over budget, results refused, idle; not completed or killed', () => {
    const reason = (over: Partial<Session>, idleMinutes?: number): string | null => buildRow(session(over), undefined, undefined, NOW, { alive, ...(idleMinutes !== undefined ? { idleMinutes } : {}) }).attention;
    expect(reason({ status: 'failed', completedAt: ago(1) })).toBe('failed');
    expect(reason({ status: 'failed', reason: 'results_refused', completedAt: ago(1) })).toBe('results_refused');
    expect(reason({ status: 'timed_out', completedAt: ago(1) })).toBe('timed_out');
    expect(reason({ status: 'over_budget', completedAt: ago(1) })).toBe('over_budget');
    expect(reason({ status: 'completed', completedAt: ago(1) })).toBeNull();
    expect(reason({ status: 'killed', completedAt: ago(1) })).toBeNull();
    // Idle: no sign of life for longer than the limit (the last activity counts as one).
    expect(reason({ lastActivityAt: ago(3 * 60_000) }, 2)).toBe('idle');
    expect(reason({ lastActivityAt: ago(60_000) }, 2)).toBeNull();
  });

  it('the fleet: counts, concurrency, providers, spend = the sum of the rows, oldest running, budget', () => {
    const rows = [
      buildRow(session({ id: 'a1', costUsd: 0.5, sandboxCostUsd: 0.25 }), undefined, undefined, NOW, { alive }),
      buildRow(session({ id: 'a2', provider: 'docker', startedAt: ago(120_000) }), undefined, undefined, NOW, { alive }),
      buildRow(session({ id: 'a3', status: 'pending', startedAt: null }), undefined, undefined, NOW, { alive }),
      buildRow(session({ id: 'a4', status: 'completed', completedAt: ago(5), costUsd: 1 }), undefined, undefined, NOW, { alive }),
      buildRow(session({ id: 'a5', status: 'timed_out', completedAt: ago(5) }), undefined, undefined, NOW, { alive }),
    ];
    const m = buildModel(rows, NOW, { budgetUsd: 1.5 });
    expect(m.fleet).toMatchObject({ running: 2, queued: 1, done: 1, failed: 1, concurrency: 2, providers: { native: 1, docker: 1 }, modelUsd: 1.5, sandboxUsd: 0.25, totalUsd: 1.75, budgetUsd: 1.5, oldestRunningMs: 120_000 });
    expect(m.attention[0]).toMatchObject({ id: '', reason: 'over_budget' });
  });
});

describe('what the logs say', () => {
  it('escapes control characters and bidi overrides from the sandbox, bounds lengths, ignores torn lines', () => {
    const d = emptyDigest();
    foldEvent(d, JSON.stringify({ type: 'tool_use', id: 't', name: 'Bash', input: { command: 'echo \u001b]52;c;aGk=\u0007 \u202etxt.exe' } }), 0);
    foldEvent(d, '{"type":"text","text":"half', 0);
    foldEvent(d, JSON.stringify({ type: 'text', text: 'x'.repeat(5000) }), 0);
    expect(d.step).toBe('Bash echo ^[]52;c;aGk=^G <U+202E>txt.exe');
    expect(d.tail).toHaveLength(2);
    expect(d.tail[1]?.text.length).toBeLessThanOrEqual(300);
    // eslint-disable-next-line no-control-regex -- no control character may survive
    expect(JSON.stringify(d.tail)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('tokens and cost from the result and summary; egress denials from the egress log', () => {
    const d = emptyDigest();
    foldEvent(d, JSON.stringify({ type: 'init', model: 'claude-x' }), 0);
    foldEvent(d, JSON.stringify({ type: 'result', isError: false, costUsd: 0.01, usage: { inputTokens: 10, outputTokens: 5 } }), 0);
    foldEgress(d, JSON.stringify({ ts: 't', method: 'CONNECT', host: 'evil.example', port: 443, allowed: false, reason: 'not allowed' }));
    foldEgress(d, JSON.stringify({ ts: 't', method: 'CONNECT', host: 'api.anthropic.com', port: 443, allowed: true }));
    expect(d).toMatchObject({ model: 'claude-x', costUsd: 0.01, inputTokens: 10, outputTokens: 5, egressDenied: 1, egressAllowed: 1 });
    expect(buildRow(session({}), d, undefined, NOW, { alive })).toMatchObject({ model: 'claude-x', costUsd: 0.01, egressDenied: 1 });
  });

  it('step labels: paths relative to the workspace, commands as given', () => {
    expect(stepLabel('Write', { file_path: '/workspace/a/b.ts' })).toBe('Write a/b.ts');
    expect(stepLabel('Bash', { command: 'npm test' })).toBe('Bash npm test');
  });

  it('FileTail returns whole lines appended since the last read, keeps a half line and a split character', () => {
    const p = join(tempDir('pcc-tail-'), 'events.ndjson');
    const t = new FileTail(p);
    expect(t.read()).toEqual([]);
    writeFileSync(p, 'one\ntw');
    expect(t.read()).toEqual(['one']);
    const snow = Buffer.from('o ☃\n');
    appendFileSync(p, snow.subarray(0, 3));
    expect(t.read()).toEqual([]);
    appendFileSync(p, snow.subarray(3));
    expect(t.read()).toEqual(['two ☃']);
    writeFileSync(p, 'new\n');
    expect(t.read()).toEqual(['new']);
  });
});

describe('the attention hook', () => {
  it('fires once per session entering the lane, not for those there when the dashboard opened', () => {
    const fire = vi.fn();
    const w = new AttentionWatch(fire);
    const model = (ids: string[]) => ({ ...buildModel([], NOW), attention: ids.map((id) => ({ id, taskId: null, reason: 'failed' as const, message: 'failed' })) });
    w.update(model(['old1']));
    w.update(model(['old1', 'new1']));
    w.update(model(['old1', 'new1']));
    expect(fire.mock.calls.map((c) => (c[0] as { id: string }).id)).toEqual(['new1']);
  });

  it('--notify runs the command without a shell of ours: the reason in its env, never in its argv', async () => {
    const out = join(tempDir('pcc-notify-'), 'got');
    const hostile = 'failed: $(touch /tmp/pwned) `id`';
    notifyCommand(`sh -c 'printf "%s|%s|%s" "$PARALLEL_CC_ATTENTION_SESSION" "$PARALLEL_CC_ATTENTION_REASON" "$PARALLEL_CC_ATTENTION_MESSAGE" > "$0"' ${out}`, { PATH: process.env.PATH })({ id: 'abcd0001', taskId: null, reason: 'failed', message: hostile });
    await expect.poll(() => existsSync(out) && readFileSync(out, 'utf8'), { timeout: 10_000 }).toBe(`abcd0001|failed|${hostile}`);
  });
});
