import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The fleet's model API limits (config `modelApi`): requests in flight at once, requests and
 * tokens per window (a minute unless `windowMs` says otherwise; tests use a few seconds).
 */
export interface FleetLimits {
  maxConcurrentRequests?: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  windowMs: number;
}

/** A store's answer to "may one more request go now?": a lease, or how long to wait and why. */
export type Admission = { ok: true; lease: string } | { ok: false; waitMs: number; why: string };

/** A fleet-wide hold: no new request starts before `until` (upstream rate limited us). */
export interface Hold {
  until: number;
  reason: string;
}

/**
 * The shared state of a fleet: leases in flight, the requests (and their tokens) of the current
 * window, and the hold. One process shares a {@link MemoryFleetStore}; processes on one machine
 * share the registry's (fleet-store.ts), each check-and-claim one transaction.
 */
export interface FleetStore {
  tryAcquire(now: number, limits: FleetLimits, holder: string): Admission;
  /**
   * Upstream's answer began: the request's place in the window is from now on this time. Upstream
   * received it between the admission and now, so counting from here (and counting a request in
   * flight as inside the window) means upstream never sees more than the limit in any window,
   * however late a request arrives there.
   */
  answered(lease: string, now: number): void;
  /** Ends a lease; `tokens` (input + output) count against tokensPerMinute from the request's start. */
  release(lease: string, now: number, tokens: number): void;
  /** Holds every new request until `until` (a later hold wins). */
  hold(until: number, reason: string, now: number): void;
  holdState(now: number): Hold | undefined;
}

/** Slack added to the window, for clocks that tick coarsely. */
export const WINDOW_SLACK_MS = 250;

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;
const seconds = (ms: number): string => `${Math.max(1, Math.ceil(ms / 1000))} s`;

/** Decides one admission from the state a store holds (shared by every store). */
export function admit(
  now: number,
  limits: FleetLimits,
  state: { inFlight: number; window: ReadonlyArray<{ at: number; tokens: number; open?: boolean }>; hold: Hold | undefined },
): { ok: true } | { ok: false; waitMs: number; why: string } {
  const { hold, inFlight } = state;
  if (hold && hold.until > now) return { ok: false, waitMs: hold.until - now, why: `${hold.reason}; resuming in ${seconds(hold.until - now)}` };
  if (limits.maxConcurrentRequests !== undefined && inFlight >= limits.maxConcurrentRequests)
    return { ok: false, waitMs: 1000, why: `${plural(inFlight, 'request')} in flight (maxConcurrentRequests ${limits.maxConcurrentRequests})` };
  const span = limits.windowMs + WINDOW_SLACK_MS;
  // A request in flight is inside the window whatever its age (see FleetStore.answered).
  const window = [...state.window].filter((w) => w.open === true || w.at > now - span).sort((a, b) => a.at - b.at);
  // When the place to free is one still in flight, its release wakes the waiters.
  const until = (w: { at: number; open?: boolean } | undefined): number => (w && w.at + span > now ? w.at + span - now : 1000);
  const per = limits.windowMs === 60_000 ? 'minute' : `${limits.windowMs / 1000} s`;
  const rpm = limits.requestsPerMinute;
  if (rpm !== undefined && window.length >= rpm) {
    const waitMs = until(window[window.length - rpm]);
    return { ok: false, waitMs, why: `${plural(window.length, 'request')} in the last ${per} (requestsPerMinute ${rpm}); next in ${seconds(waitMs)}` };
  }
  const tpm = limits.tokensPerMinute;
  let tokens = window.reduce((n, w) => n + w.tokens, 0);
  if (tpm !== undefined && tokens >= tpm) {
    const used = tokens;
    let waitMs = 1000;
    for (const w of window) {
      tokens -= w.tokens;
      if (tokens < tpm) {
        waitMs = until(w);
        break;
      }
    }
    return { ok: false, waitMs, why: `${used} tokens in the last ${per} (tokensPerMinute ${tpm}); next in ${seconds(waitMs)}` };
  }
  return { ok: true };
}

/** The fleet state of one CLI process. */
export class MemoryFleetStore implements FleetStore {
  private readonly leases = new Map<string, { at: number }>();
  private window: Array<{ at: number; tokens: number; lease?: string }> = [];
  private held: Hold | undefined;
  private n = 0;

  tryAcquire(now: number, limits: FleetLimits): Admission {
    this.window = this.window.filter((w) => w.at > now - limits.windowMs - WINDOW_SLACK_MS || w.lease !== undefined);
    const a = admit(now, limits, { inFlight: this.leases.size, window: this.window.map((w) => ({ at: w.at, tokens: w.tokens, open: w.lease !== undefined })), hold: this.held });
    if (!a.ok) return a;
    const lease = `l${(this.n += 1)}`;
    this.leases.set(lease, { at: now });
    this.window.push({ at: now, tokens: 0, lease });
    return { ok: true, lease };
  }

  answered(lease: string, now: number): void {
    const w = this.window.find((x) => x.lease === lease);
    if (w) w.at = now;
  }

  release(lease: string, _now: number, tokens: number): void {
    this.leases.delete(lease);
    const w = this.window.find((x) => x.lease === lease);
    if (w) {
      w.tokens = tokens;
      delete w.lease;
    }
  }

  hold(until: number, reason: string): void {
    if (!this.held || until > this.held.until) this.held = { until, reason };
  }

  holdState(now: number): Hold | undefined {
    return this.held && this.held.until > now ? this.held : undefined;
  }
}

/** Time for the limiter: real by default, fake in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: Clock = { now: () => Date.now(), sleep: (ms, signal) => sleep(ms, undefined, { signal }).then(() => undefined) };

/** A request's permission to go upstream; release it once its answer ended. */
export interface Lease {
  /** Upstream's answer began (see {@link FleetStore.answered}). */
  answered(): void;
  release(tokens: number): void;
}

/** Longest single sleep of a waiter: another process's release is only seen by looking again. */
const POLL_MS = 1000;
/** Backoff without a Retry-After: 1 s, doubling, at most this. */
const MAX_BACKOFF_MS = 60_000;

/**
 * The fleet's limiter: every model request of every session of the fleet asks it first. Waiters
 * wake when a lease of this process is released, when their wait is over, or every second to see
 * other processes' releases. On a 429/529 the whole fleet is held (not just the request that got it).
 */
export class FleetLimiter {
  private readonly wakers = new Set<() => void>();
  private failures = 0;

  constructor(
    private readonly store: FleetStore,
    readonly limits: FleetLimits,
    private readonly clock: Clock = realClock,
    private readonly random: () => number = Math.random,
  ) {}

  /** Waits until the request may go (`onWait` is told each time it has to wait, and why). */
  async acquire(holder: string, opts: { signal: AbortSignal; onWait?: (why: string, waitMs: number) => void }): Promise<Lease> {
    for (;;) {
      if (opts.signal.aborted) throw new Error('aborted while waiting for the model API limiter');
      const now = this.clock.now();
      const a = this.store.tryAcquire(now, this.limits, holder);
      if (a.ok) {
        let done = false;
        return {
          answered: () => {
            if (!done) this.store.answered(a.lease, this.clock.now());
          },
          release: (tokens) => {
            if (done) return;
            done = true;
            this.store.release(a.lease, this.clock.now(), tokens);
            this.wake();
          },
        };
      }
      opts.onWait?.(a.why, a.waitMs);
      await this.pause(Math.max(1, Math.min(a.waitMs, POLL_MS)), opts.signal);
    }
  }

  /**
   * Upstream refused for load (429/529): holds the whole fleet for `retryAfterMs` (else an
   * exponential backoff) plus up to 25% jitter, so the fleet's retries do not arrive together.
   * Returns how long the hold lasts.
   */
  backoff(retryAfterMs: number | undefined, reason: string): number {
    this.failures += 1;
    const base = retryAfterMs ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
    const delay = Math.round(base * (1 + 0.25 * this.random()));
    const now = this.clock.now();
    this.store.hold(now + delay, reason, now);
    return delay;
  }

  /** A request got a normal answer: the next backoff starts small again. */
  succeeded(): void {
    this.failures = 0;
  }

  /** The fleet-wide hold now in force, if any (this process's or another's). */
  hold(): Hold | undefined {
    return this.store.holdState(this.clock.now());
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let waker: (() => void) | undefined;
    try {
      await Promise.race([
        this.clock.sleep(ms, stop.signal).catch(() => undefined),
        new Promise<void>((resolve) => {
          waker = resolve;
          this.wakers.add(resolve);
        }),
      ]);
    } finally {
      if (waker) this.wakers.delete(waker);
      stop.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * How long upstream asks us to wait, from a refusal's headers: `retry-after-ms`, `retry-after`
 * (seconds or an HTTP date), else the latest `anthropic-ratelimit-*-reset` time of a limit whose
 * `-remaining` is 0. Undefined when it says nothing usable.
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now: number): number | undefined {
  const one = (k: string): string | undefined => {
    const v = headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const ms = Number(one('retry-after-ms'));
  if (one('retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const ra = one('retry-after');
  if (ra !== undefined) {
    const s = Number(ra);
    if (ra.trim() !== '' && Number.isFinite(s) && s >= 0) return s * 1000;
    const at = Date.parse(ra);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  let latest: number | undefined;
  for (const [k, v] of Object.entries(headers)) {
    const m = /^anthropic-ratelimit-(.+)-reset$/.exec(k);
    if (!m || typeof v !== 'string') continue;
    const remaining = one(`anthropic-ratelimit-${m[1] ?? ''}-remaining`);
    if (remaining !== undefined && Number(remaining) > 0) continue;
    const at = Date.parse(v);
    if (Number.isFinite(at) && at > now) latest = Math.max(latest ?? 0, at - now);
  }
  return latest;
}
