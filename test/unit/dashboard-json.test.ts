/** `dashboard --json` (live) prints a model per change, as its help says: not per tick (the clock is no change). */
import { describe, expect, it } from 'vitest';
import { changeKey, jsonLines } from '../../src/cli/dashboard/json-lines.js';
import { emptyDigest, foldEvent } from '../../src/core/dashboard/digest.js';
import { buildModel, buildRow, type DashboardModel } from '../../src/core/dashboard/model.js';
import type { Session } from '../../src/store/sessions.js';

const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const session = { id: 'cafe0001', kind: 'sandbox', repoPath: '/r', provider: 'native', agent: 'claude', status: 'running', pid: 42, createdAt: new Date(T0 - 60_000).toISOString(), startedAt: new Date(T0 - 50_000).toISOString(), updatedAt: new Date(T0).toISOString(), completedAt: null, costUsd: null, sandboxCostUsd: null, inputTokens: null, outputTokens: null, commits: null, filesChanged: null, heartbeatAt: null, lastActivityAt: new Date(T0).toISOString(), taskId: null, groupId: null, branch: null, worktreePath: null, error: null, reason: null } as unknown as Session;

/** The model at `atMs` after T0 of a session whose last tool call was `step`. */
function model(atMs: number, step: string): DashboardModel {
  const d = emptyDigest();
  foldEvent(d, JSON.stringify({ type: 'tool_use', id: 't', name: 'Edit', input: { file_path: `/workspace/${step}` }, ts: new Date(T0).toISOString() }), T0);
  const now = new Date(T0 + atMs);
  return buildModel([buildRow(session, d, undefined, now, { alive: () => true })], now);
}

describe('dashboard --json, live', () => {
  it('the change key leaves out the model time and the ages, nothing else', () => {
    const [a, later] = [model(0, 'a.ts'), model(3_000, 'a.ts')];
    // The ages did move on: a plain comparison would call this a change.
    expect(JSON.stringify(later)).not.toBe(JSON.stringify(a));
    expect([later.generatedAt !== a.generatedAt, later.rows[0]?.inStateMs, later.rows[0]?.heartbeatAgeMs, later.fleet.oldestRunningMs]).toEqual([true, 53_000, 3_000, 53_000]);
    expect(changeKey(later)).toBe(changeKey(a));
    expect(changeKey(model(3_000, 'b.ts'))).not.toBe(changeKey(a));
  });

  it('writes the first model, then one line per change — ticks that only move the clock write nothing', () => {
    let listener: ((m: DashboardModel) => void) | undefined;
    const lines: string[] = [];
    const unsubscribe = jsonLines(model(0, 'a.ts'), (fn) => ((listener = fn), () => (listener = undefined)), (l) => lines.push(l));
    for (let tick = 1; tick <= 5; tick++) listener?.(model(tick * 1000, 'a.ts'));
    listener?.(model(6_000, 'b.ts'));
    listener?.(model(7_000, 'b.ts'));
    expect(lines.map((l) => (JSON.parse(l) as DashboardModel).rows[0]?.step)).toEqual(['Edit a.ts', 'Edit b.ts']);
    // Each printed model is the one of that change, its time and ages as they were then.
    expect((JSON.parse(lines[1] ?? '') as DashboardModel).generatedAt).toBe(new Date(T0 + 6_000).toISOString());
    expect(lines.every((l) => l.endsWith('}\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    unsubscribe();
    expect(listener).toBeUndefined();
  });
});
