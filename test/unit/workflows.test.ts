import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/events.js';
import type { RunReason } from '../../src/core/outcome.js';
import { applySets, parseDefinition, runFlagKeys } from '../../src/core/workflows/definition.js';
import { isTransient, retryDelaySeconds, withRetries } from '../../src/core/workflows/retry.js';
import { settle } from '../../src/core/outcome.js';
import { AppError } from '../../src/errors.js';
import { vendorError } from '../../src/providers/remote/errors.js';

const summary = (id: string, status: RunSummary['status'], reason?: RunReason, error?: string): RunSummary =>
  ({ sessionId: id, status, exitCode: status === 'completed' ? 0 : 1, ...(reason ? { reason } : {}), ...(error ? { error } : {}) }) as RunSummary;

describe('retry policy', () => {
  it('retries only provider outages and lost sandboxes, never the agent, its limits, its check or a rejected key', () => {
    expect(isTransient(summary('a', 'failed', 'provider_unavailable', 'the E2B API failed while checking the API key (HTTP 503)'))).toBe(true);
    expect(isTransient(summary('a', 'failed', 'sandbox_lost'))).toBe(true);
    for (const reason of ['agent_failed', 'check_failed', 'setup_failed', 'results_refused', 'internal'] as const) expect(isTransient(summary('a', 'failed', reason)), reason).toBe(false);
    expect(isTransient(summary('a', 'timed_out', 'timed_out'))).toBe(false);
    expect(isTransient(summary('a', 'over_budget', 'over_budget'))).toBe(false);
    expect(isTransient(summary('a', 'completed'))).toBe(false);
    expect(isTransient(summary('a', 'failed', 'provider_unavailable', 'E2B rejected the API key while checking the API key (HTTP 401)'))).toBe(false);
  });

  it('waits delay × backoff^(n−2) and stops after max retries, linking each attempt to the first', async () => {
    const waits: number[] = [];
    const firsts: Array<string | undefined> = [];
    const out = await withRetries(
      { max: 2, delay: 3, backoff: 2 },
      {
        signal: new AbortController().signal,
        attempt: (n, first) => {
          firsts.push(first);
          return Promise.resolve(summary(`s${n}`, 'failed', 'provider_unavailable'));
        },
        sleep: (s) => {
          waits.push(s);
          return Promise.resolve();
        },
        retrying: () => undefined,
      },
    );
    expect(out.attempts.map((a) => a.sessionId)).toEqual(['s1', 's2', 's3']);
    expect(waits).toEqual([3, 6]);
    expect(firsts).toEqual([undefined, 's1', 's1']);
    expect(retryDelaySeconds({ max: 5, delay: 1, backoff: 3 }, 4)).toBe(9);
  });

  it('stops at the first non-transient end, and runs once without a policy', async () => {
    const deps = (ends: RunSummary[]): Parameters<typeof withRetries>[1] => ({
      signal: new AbortController().signal,
      attempt: (n) => Promise.resolve(ends[n - 1] as RunSummary),
      sleep: () => Promise.resolve(),
      retrying: () => undefined,
    });
    const outage = summary('a', 'failed', 'provider_unavailable');
    expect((await withRetries({ max: 5, delay: 0, backoff: 1 }, deps([outage, summary('b', 'failed', 'agent_failed'), outage]))).attempts).toHaveLength(2);
    expect((await withRetries(undefined, deps([outage, outage]))).attempts).toHaveLength(1);
  });
});

describe('transient provider errors', () => {
  const acme = { name: 'Acme', statusPage: 'https://status.acme.test', keyHint: 'k', diskHint: 'd', notFoundHint: 'n' };
  const status = (code: number): Error => Object.assign(new Error(`${code}: x`), { statusCode: code });

  it('marks 5xx, 429, timeouts and an unreachable API transient, never a rejected key, a full disk or not found', () => {
    for (const e of [status(503), status(429), new Error('request timed out'), new Error('fetch failed')]) expect(vendorError(acme, 'x', e).details, e.message).toEqual({ transient: true });
    for (const e of [status(401), status(507), status(404)]) expect(vendorError(acme, 'x', e).details, e.message).toBeUndefined();
  });

  it('a creation outage settles as provider_unavailable (a setup mistake stays setup_failed)', () => {
    const err = new AppError('environment', 'the Acme API failed', { details: { transient: true } });
    expect(settle({ ended: 'failed', failure: err, origin: 'provider_outage' }).reason).toBe('provider_unavailable');
    expect(settle({ ended: 'failed', failure: err }).reason).toBe('setup_failed');
  });
});

describe('workflow definitions', () => {
  const def = parseDefinition({ version: 1, name: 'w', run: { promptFile: 'PLAN.md', timeout: '30m', cleanup: true } }, 'w.json');

  it('names the source and the key of what is wrong', () => {
    expect(() => parseDefinition({ version: 1, name: 'w', run: { prompt: 'x', timout: '1' } }, '/h/w.json')).toThrow('invalid workflow definition /h/w.json: run.timout: unknown key');
    expect(() => parseDefinition({ version: 1, name: 'w', run: { prompt: 'x', cleanup: 'no' } }, 'f')).toThrow(/^invalid workflow definition f: run\.cleanup: /);
    expect(() => parseDefinition({ version: 1, name: 'w', run: { prompt: 'x' }, retry: { max: 3, delay: -1 } }, 'f')).toThrow(/f: retry\.delay: /);
    expect(() => parseDefinition({ version: 1, name: 'w', run: {} }, 'f')).toThrow(/f: run: no task/);
    expect(() => parseDefinition({ version: 1, name: 'w', run: { multi: true, task: ['a'] }, retry: { max: 2 } }, 'f')).toThrow(/retries are for single runs/);
    expect(() => parseDefinition({ version: 1, name: '../x', run: { prompt: 'x' } }, 'f')).toThrow(/f: name: /);
  });

  it('never holds a token: npmToken/githubToken are refused with where to put them instead; the rest of the private-deps flags are kept', () => {
    expect(() => parseDefinition({ version: 1, name: 'w', run: { prompt: 'x', npmToken: 'npm_secret' } }, 'f')).toThrow(/run\.npmToken: a token is never saved in a workflow; set PARALLEL_CC_NPM_TOKEN/);
    expect(() => parseDefinition({ version: 1, name: 'w', run: { prompt: 'x', githubToken: 'ghp_x' } }, 'f')).toThrow(/run\.githubToken: a token is never saved/);
    expect(parseDefinition({ version: 1, name: 'w', run: { prompt: 'x', npmRegistry: 'https://npm.example.com/', sshKey: '/k', gitLive: true } }, 'f').run).toMatchObject({ npmRegistry: 'https://npm.example.com/', gitLive: true });
  });

  it('applies --set: text, switches, lists, flag spellings; a new prompt replaces the saved prompt file', () => {
    const d = applySets(def, ['timeout=1', 'cleanup=false', 'allow-domain=a.com,b.com', 'prompt=now this']);
    expect(d.run).toEqual({ prompt: 'now this', timeout: '1', cleanup: false, allowDomain: ['a.com', 'b.com'] });
    expect(def.run.timeout).toBe('30m');
    expect(() => applySets(def, ['timout=1'])).toThrow('--set timout: not a run flag');
    expect(() => applySets(def, ['cleanup=maybe'])).toThrow(/must be true or false/);
    expect(() => applySets(def, ['timeout'])).toThrow(/not key=value/);
  });
});

describe('workflow signals', () => {
  it('a first Ctrl-C stops a workflow run or the trigger server cleanly, like sandbox run', async () => {
    const { commandOf, signalPlan } = await import('../../src/cli/signals.js');
    expect(commandOf(['workflow', 'run', 'nightly'])).toBe('workflow run');
    expect(signalPlan(['workflow', 'run', 'nightly'])).toMatchObject({ graceful: true });
    expect(signalPlan(['workflow', 'run', 'nightly']).message('SIGINT')).toContain('no further attempt starts');
    expect(signalPlan(['workflow', 'serve']).message('SIGTERM')).toContain('no new triggers are taken');
    expect(signalPlan(['workflow', 'list']).graceful).toBe(false);
  });
});

describe('workflow create takes every sandbox run flag', () => {
  it('each `sandbox run` option is a key a definition may hold', async () => {
    const { buildProgram } = await import('../../src/cli/program.js');
    const sink = { write: () => true };
    const program = buildProgram({ cwd: '/', env: {}, home: '/nonexistent-home', now: () => new Date(0), stdout: sink, stderr: sink, signal: new AbortController().signal }, () => undefined);
    const sandbox = program.commands.find((c) => c.name() === 'sandbox');
    const run = sandbox?.commands.find((c) => c.name() === 'run');
    const names = (run?.options ?? []).map((o) => o.attributeName()).filter((n) => n !== 'json' && n !== 'verbose');
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter((n) => !runFlagKeys().includes(n))).toEqual([]);
  });
});
