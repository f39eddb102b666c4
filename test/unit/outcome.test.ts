/**
 * The settle step (core/outcome.ts): every way a session ends → status, exit code, typed reason,
 * message and hint; and the one registry write.
 */
import { describe, expect, it } from 'vitest';
import { failureReason } from '../../src/core/multi/run-multi.js';
import type { FailureReason } from '../../src/core/multi/types.js';
import { agentFailure, recordOutcome, settle, type Outcome, type RunReason, type SettleInput } from '../../src/core/outcome.js';
import { AppError, type ErrorKind } from '../../src/errors.js';
import type { SessionPatch, SessionRepository } from '../../src/store/sessions.js';

const err = (kind: ErrorKind, message = `a ${kind} error`, hint?: string): AppError => new AppError(kind, message, hint ? { hint } : {});

describe('settle', () => {
  const cases: [string, SettleInput, Outcome][] = [
    ['completed', { ended: 'completed' }, { status: 'completed', exitCode: 0 }],
    ['agent failed', { ended: 'failed', failure: err('agent', 'boom', 'retry') }, { status: 'failed', exitCode: 1, reason: 'agent_failed', message: 'boom', hint: 'retry' }],
    ['failed without an error', { ended: 'failed' }, { status: 'failed', exitCode: 1, reason: 'agent_failed' }],
    ['timed out', { ended: 'timed_out', failure: err('timeout', 'slow') }, { status: 'timed_out', exitCode: 4, reason: 'timed_out', message: 'slow' }],
    ['a timeout thrown by a step', { ended: 'failed', failure: err('timeout') }, { status: 'failed', exitCode: 4, reason: 'timed_out', message: 'a timeout error' }],
    ['over budget', { ended: 'over_budget', failure: err('agent', 'costly', 'raise it') }, { status: 'over_budget', exitCode: 1, reason: 'over_budget', message: 'costly', hint: 'raise it' }],
    ['killed by the signal', { ended: 'killed', failure: err('interrupted', 'interrupted before the agent started') }, { status: 'killed', exitCode: 130, reason: 'killed', message: 'interrupted before the agent started' }],
    ['killed by a user', { ended: 'killed', failure: err('interrupted', 'x', 'h'), killedBy: { by: 'alice', collect: true } }, { status: 'killed', exitCode: 130, reason: 'killed_by_user', message: 'killed by alice' }],
    ['killed by a user, not collected', { ended: 'killed', killedBy: { by: 'alice', collect: false } }, { status: 'killed', exitCode: 130, reason: 'killed_by_user', message: 'killed by alice (its work was not collected: --no-download)' }],
    ['results refused', { ended: 'completed', failure: err('results', 'refused') }, { status: 'failed', exitCode: 5, reason: 'results_refused', message: 'refused' }],
    ['results refused after a kill: failed, not killed', { ended: 'killed', failure: err('results', 'refused'), killedBy: { by: 'alice', collect: true } }, { status: 'failed', exitCode: 5, reason: 'results_refused', message: 'refused' }],
    ['provider unavailable', { ended: 'failed', failure: err('environment', 'down', 'start it'), origin: 'provider_check' }, { status: 'failed', exitCode: 3, reason: 'provider_unavailable', message: 'down', hint: 'start it' }],
    ['provider check failing with another kind', { ended: 'failed', failure: err('agent'), origin: 'provider_check' }, { status: 'failed', exitCode: 1, reason: 'provider_unavailable', message: 'a agent error' }],
    ['sandbox lost', { ended: 'failed', failure: err('environment', 'container stopped'), origin: 'sandbox_lost' }, { status: 'failed', exitCode: 3, reason: 'sandbox_lost', message: 'container stopped' }],
    ['usage', { ended: 'failed', failure: err('usage') }, { status: 'failed', exitCode: 2, reason: 'setup_failed', message: 'a usage error' }],
    ['environment', { ended: 'failed', failure: err('environment') }, { status: 'failed', exitCode: 3, reason: 'setup_failed', message: 'a environment error' }],
    ['not found', { ended: 'failed', failure: err('not_found') }, { status: 'failed', exitCode: 6, reason: 'setup_failed', message: 'a not_found error' }],
    ['internal', { ended: 'failed', failure: err('internal') }, { status: 'failed', exitCode: 70, reason: 'internal', message: 'a internal error' }],
    ['interrupted while failing', { ended: 'failed', failure: err('interrupted') }, { status: 'failed', exitCode: 130, reason: 'killed', message: 'a interrupted error' }],
    ['a note on a completed session (cleanup)', { ended: 'completed', failure: err('agent', 'released by cleanup') }, { status: 'completed', exitCode: 0, message: 'released by cleanup' }],
    ['an explicit reason wins', { ended: 'killed', failure: err('agent', 'killed by `sandbox kill`'), reason: 'killed_by_user' }, { status: 'killed', exitCode: 130, reason: 'killed_by_user', message: 'killed by `sandbox kill`' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(settle(input)).toEqual(expected);
  });

  it('redacts the message (not the hint)', () => {
    const o = settle({ ended: 'failed', failure: err('agent', 'key sk-secret leaked', 'see sk-secret'), redact: (t) => t.replaceAll('sk-secret', '[redacted]') });
    expect(o).toMatchObject({ message: 'key [redacted] leaked', hint: 'see sk-secret' });
  });
});

describe('agentFailure', () => {
  const base = { costUsd: 0.5, budgetUsd: 0.25, timeoutMinutes: 7 };
  it('failed: the agent’s error with the limit hit first, and its hint', () => {
    const e = agentFailure('failed', { ...base, error: 'exited 3', hint: 'h', limitHits: 'killed: out of memory' });
    expect(e).toMatchObject({ kind: 'agent', message: 'killed: out of memory; exited 3', hint: 'h' });
    expect(agentFailure('failed', base)?.message).toBe('the agent failed');
  });
  it('over budget: the cost, the budget and what to do', () => {
    expect(agentFailure('over_budget', base)).toMatchObject({ kind: 'agent', message: 'the agent was stopped: its cost ($0.5000) passed the budget of $0.25; its work so far is kept', hint: 'Raise --budget-per-task, or split the task into smaller ones.' });
  });
  it('timed out: the minutes', () => {
    expect(agentFailure('timed_out', base)).toMatchObject({ kind: 'timeout', message: 'the agent was stopped after the 7-minute timeout; its work so far is kept' });
  });
  it('completed or killed: no failure', () => {
    expect(agentFailure('completed', base)).toBeUndefined();
    expect(agentFailure('killed', base)).toBeUndefined();
  });
});

describe('recordOutcome', () => {
  it('writes status, completion time, exit code, error and the typed reason, then the caller’s fields', () => {
    const writes: [string, SessionPatch][] = [];
    const sessions = { update: (id: string, patch: SessionPatch) => writes.push([id, patch]) } as unknown as SessionRepository;
    const now = new Date('2026-01-02T03:04:05.000Z');
    recordOutcome(sessions, 's1', { status: 'failed', exitCode: 5, reason: 'results_refused', message: 'refused' }, now, { commits: 2 });
    recordOutcome(sessions, 's2', { status: 'completed', exitCode: 0 }, now, { exitCode: null });
    expect(writes).toEqual([
      ['s1', { status: 'failed', completedAt: '2026-01-02T03:04:05.000Z', exitCode: 5, error: 'refused', reason: 'results_refused', commits: 2 }],
      ['s2', { status: 'completed', completedAt: '2026-01-02T03:04:05.000Z', exitCode: null, error: null, reason: null }],
    ]);
  });
});

describe('--multi task reasons from the typed reason', () => {
  const cases: [Outcome['status'], RunReason | undefined, boolean, FailureReason | undefined][] = [
    ['completed', undefined, false, undefined],
    ['failed', 'agent_failed', false, 'agent_failed'],
    ['failed', 'internal', false, 'agent_failed'],
    ['timed_out', 'timed_out', false, 'timed_out'],
    ['over_budget', 'over_budget', false, 'over_budget'],
    ['killed', 'killed', false, 'killed_by_fail_fast'],
    ['killed', 'killed', true, 'interrupted'],
    ['killed', 'killed_by_user', true, 'killed_by_user'],
    ['failed', 'results_refused', false, 'results_failed'],
    ['failed', 'provider_unavailable', false, 'setup_failed'],
    ['failed', 'sandbox_lost', false, 'setup_failed'],
    ['failed', 'setup_failed', false, 'setup_failed'],
  ];
  it.each(cases)('%s / %s (interrupted: %s) → %s', (status, reason, interrupted, expected) => {
    expect(failureReason({ status, ...(reason ? { reason } : {}) }, interrupted)).toBe(expected);
  });
});
