/**
 * The fleet's limiter on a fake clock: requests in flight, requests and tokens per window, the
 * fleet-wide hold after a 429 (Retry-After, reset headers, exponential backoff with jitter), and
 * the registry store that lets other processes share it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetLimiter, MemoryFleetStore, retryAfterMs, WINDOW_SLACK_MS, type Clock, type FleetLimits, type Lease } from '../../src/core/net/fleet-limiter.js';
import { SqliteFleetStore } from '../../src/core/net/fleet-store.js';
import { openDb, type Db } from '../../src/store/db.js';
import { tempDir } from '../helpers/git-repo.js';

/** A clock that moves only when told; sleeps resolve in time order as it passes them. */
class FakeClock implements Clock {
  t = 1_000_000;
  private timers: Array<{ at: number; resolve: () => void }> = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = { at: this.t + ms, resolve };
      this.timers.push(timer);
      signal.addEventListener('abort', () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(new Error('aborted'));
      });
    });
  }
  /** Moves time forward, firing each due sleep at its own time and letting its waiter run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      this.timers = this.timers.filter((x) => x !== next);
      next.resolve();
    }
    this.t = end;
    await flush();
  }
}
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const never = new AbortController().signal;

/** Starts `n` acquisitions; returns the leases granted so far (a live array) and the wait reasons. */
function race(limiter: FleetLimiter, n: number): { granted: Array<{ i: number; at: number; lease: Lease }>; waits: string[] } {
  const granted: Array<{ i: number; at: number; lease: Lease }> = [];
  const waits: string[] = [];
  for (let i = 0; i < n; i++) void limiter.acquire(`s${i}`, { signal: never, onWait: (w) => waits.push(w) }).then((lease) => granted.push({ i, at: clock.now(), lease }));
  return { granted, waits };
}

let clock: FakeClock;
const limiter = (limits: Partial<FleetLimits>, random = (): number => 0.5): FleetLimiter => new FleetLimiter(new MemoryFleetStore(), { windowMs: 10_000, ...limits }, clock, random);

describe('FleetLimiter', () => {

  it('lets at most maxConcurrentRequests go at once; a release lets the next one go at once', async () => {
    clock = new FakeClock();
    const l = limiter({ maxConcurrentRequests: 2 });
    const { granted, waits } = race(l, 5);
    await flush();
    expect(granted.map((g) => g.i)).toEqual([0, 1]);
    expect(waits[0]).toMatch(/2 requests in flight \(maxConcurrentRequests 2\)/);
    granted[0]?.lease.release(10);
    await flush();
    // Woken by the release, not by the poll: no time passed.
    expect(granted.map((g) => g.i)).toEqual([0, 1, 2]);
    expect(granted[2]?.at).toBe(granted[0]?.at);
    granted[1]?.lease.release(0);
    granted[2]?.lease.release(0);
    await flush();
    expect(granted).toHaveLength(5);
  });

  it('never lets more than requestsPerMinute go in any window, and each waiter goes as soon as one ages out', async () => {
    clock = new FakeClock();
    const l = limiter({ requestsPerMinute: 3 });
    const { granted, waits } = race(l, 10);
    for (let i = 0; i < 50 && granted.length < 10; i++) {
      await clock.advance(1000);
      for (const g of granted) g.lease.release(0);
    }
    expect(granted).toHaveLength(10);
    const at = granted.map((g) => g.at);
    // Sliding window: every span of one window (plus the slack) holds at most 3 starts.
    for (const a of at) expect(at.filter((b) => b >= a && b < a + 10_000 + WINDOW_SLACK_MS).length).toBeLessThanOrEqual(3);
    // And no time is wasted: the 4th goes one window (plus slack) after the 1st, give or take a poll.
    expect((at[3] ?? 0) - (at[0] ?? 0)).toBeLessThanOrEqual(10_000 + WINDOW_SLACK_MS + 1000);
    expect(waits.some((w) => /3 requests in the last 10 s \(requestsPerMinute 3\); next in \d+ s/.test(w))).toBe(true);
  });

  it('counts a request in the window from when its answer began, and a request in flight whatever its age', async () => {
    clock = new FakeClock();
    const l = limiter({ requestsPerMinute: 1 });
    const t0 = clock.now();
    const a = await l.acquire('a', { signal: never });
    const { granted } = race(l, 1);
    // Still in flight after two windows: upstream may be receiving it only now.
    await clock.advance(20_000);
    expect(granted).toHaveLength(0);
    a.answered();
    a.release(0);
    await clock.advance(10_000 + WINDOW_SLACK_MS - 1000);
    expect(granted).toHaveLength(0);
    await clock.advance(1000);
    expect(granted).toHaveLength(1);
    expect((granted[0]?.at ?? 0) - t0).toBe(20_000 + 10_000 + WINDOW_SLACK_MS);
  });

  it('counts the tokens of finished requests against tokensPerMinute', async () => {
    clock = new FakeClock();
    const l = limiter({ tokensPerMinute: 1000 });
    const a = await l.acquire('s', { signal: never });
    a.release(1200);
    const { granted, waits } = race(l, 1);
    await clock.advance(5000);
    expect(granted).toHaveLength(0);
    expect(waits[0]).toMatch(/1200 tokens in the last 10 s \(tokensPerMinute 1000\)/);
    await clock.advance(5000 + WINDOW_SLACK_MS + 1000);
    expect(granted).toHaveLength(1);
  });

  it('a 429 holds the whole fleet for Retry-After plus jitter (never less), then everyone resumes', async () => {
    clock = new FakeClock();
    const l = limiter({}, () => 1);
    const first = await l.acquire('a', { signal: never });
    first.release(0);
    const hold = l.backoff(2000, 'rate limited by the model API (429)');
    // Jitter of up to 25% on top of the server's Retry-After, never below it.
    expect(hold).toBe(2500);
    expect(l.hold()?.reason).toMatch(/429/);
    const { granted, waits } = race(l, 4);
    await clock.advance(2499);
    expect(granted).toHaveLength(0);
    expect(waits[0]).toMatch(/rate limited by the model API \(429\); resuming in 3 s/);
    await clock.advance(1);
    expect(granted).toHaveLength(4);
    expect(l.hold()).toBeUndefined();
  });

  it('without Retry-After it backs off exponentially with jitter, and starts small again after a success', () => {
    clock = new FakeClock();
    const rnd = [0, 0.5, 1, 0];
    const l = limiter({}, () => rnd.shift() ?? 0);
    expect([l.backoff(undefined, 'x'), l.backoff(undefined, 'x'), l.backoff(undefined, 'x')]).toEqual([1000, 2250, 5000]);
    l.succeeded();
    expect(l.backoff(undefined, 'x')).toBe(1000);
  });

  it('an aborted waiter stops waiting', async () => {
    clock = new FakeClock();
    const l = limiter({ maxConcurrentRequests: 1 });
    await l.acquire('a', { signal: never });
    const stop = new AbortController();
    const waiting = l.acquire('b', { signal: stop.signal });
    await flush();
    stop.abort();
    await clock.advance(1000);
    await expect(waiting).rejects.toThrow(/aborted/);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads retry-after-ms, retry-after (seconds or a date) and the anthropic-ratelimit reset of an exhausted limit', () => {
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2000);
    expect(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:12 GMT' }, now)).toBe(12_000);
    expect(retryAfterMs({ 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:07Z', 'anthropic-ratelimit-tokens-remaining': '5000', 'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:30Z' }, now)).toBe(7000);
    expect(retryAfterMs({ 'anthropic-ratelimit-output-tokens-reset': '2026-01-01T00:00:04Z' }, now)).toBe(4000);
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
  });
});

describe('SqliteFleetStore (processes sharing the registry)', () => {
  const dbs: Db[] = [];
  afterEach(() => dbs.splice(0).forEach((d) => d.close()));

  it('two connections (two CLI processes) share in-flight leases, the window and the hold; a dead process frees its leases', () => {
    const path = join(tempDir('pcc-fleet-'), 'coordinator.db');
    const alive = new Set([111, 222]);
    const [a, b] = [111, 222].map((pid) => {
      const db = openDb(path);
      dbs.push(db);
      return new SqliteFleetStore(db, pid, (p) => alive.has(p));
    }) as [SqliteFleetStore, SqliteFleetStore];
    const limits = { maxConcurrentRequests: 2, requestsPerMinute: 3, windowMs: 10_000 };
    const t = 5_000_000;
    const l1 = a.tryAcquire(t, limits, 's1');
    const l2 = b.tryAcquire(t, limits, 's2');
    expect([l1.ok, l2.ok]).toEqual([true, true]);
    expect(a.tryAcquire(t, limits, 's3')).toMatchObject({ ok: false, why: expect.stringMatching(/2 requests in flight/) as unknown });
    // Process 222 dies with its request in flight: its lease no longer counts.
    alive.delete(222);
    const l3 = a.tryAcquire(t + 1, limits, 's3');
    expect(l3.ok).toBe(true);
    if (l1.ok) a.release(l1.lease, t + 2, 100);
    // Three started in this window: the per-window limit applies across both processes.
    expect(a.tryAcquire(t + 3, limits, 's4')).toMatchObject({ ok: false, why: expect.stringMatching(/3 requests in the last 10 s/) as unknown });
    // A hold set by one process stops the other; a shorter hold never shortens it.
    b.hold(t + 60_000, 'rate limited by the model API (429)', t);
    a.hold(t + 1_000, 'x', t);
    expect(a.holdState(t + 30_000)).toEqual({ until: t + 60_000, reason: 'rate limited by the model API (429)' });
    expect(a.tryAcquire(t + 30_000, limits, 's5')).toMatchObject({ ok: false, why: expect.stringMatching(/rate limited .*resuming in 30 s/) as unknown });
    expect(a.holdState(t + 60_001)).toBeUndefined();
  });
});
