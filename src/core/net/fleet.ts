import type { RunEvent, TokenUsage } from '../events.js';
import { estimateCost, roundUsd } from '../pricing.js';
import { FleetLimiter, MemoryFleetStore, realClock, retryAfterMs, type Clock, type FleetLimits, type FleetStore, type Lease } from './fleet-limiter.js';
import type { MeteredUsage } from './usage-meter.js';

/** The `model_api` event: the broker's view of the fleet, shown in the stream and written to the session log. */
export type ModelApiEvent = Extract<RunEvent, { type: 'model_api' }>;

/** What the broker asks before it sends a request upstream, and tells after. */
export interface BrokerGate {
  /** Waits for the limiter; a refusal (a budget is spent) is answered to the agent as is. */
  admit(signal: AbortSignal): Promise<{ ok: true; lease: Lease } | { ok: false; status: number; type: string; message: string }>;
  /** Upstream refused for load before any byte reached the agent: the delay before the broker retries, or undefined to pass the refusal on. */
  refused(status: number, headers: Record<string, string | string[] | undefined>, attempt: number): number | undefined;
  /** A response ended; its usage as the broker read it (undefined: it reported none). */
  answered(status: number, usage: MeteredUsage | undefined): void;
}

/** One session's part of the fleet. */
export interface FleetMember extends BrokerGate {
  /** Exact model cost so far (sum of every response's usage × its model's price). */
  costUsd(): number;
  usage(): Required<TokenUsage>;
  /** True once the broker read at least one response's usage (its cost is then the truth). */
  metered(): boolean;
  /** Why the session's requests are refused (its own or the batch's budget), once they are. */
  stopped(): string | undefined;
  leave(): void;
}

/** Options of a session joining the fleet. */
export interface MemberOptions {
  sessionId: string;
  /** --budget-per-task: the session's requests are refused once its cost reaches this. */
  budgetUsd?: number;
  emit: (e: ModelApiEvent) => void;
  /** The cost changed (call sites throttle their writes). */
  onCost?: (usd: number) => void;
  /** A budget was reached: stop the agent (its work so far is kept). */
  onStop?: (reason: string) => void;
}

/** Retries of a request upstream refused for load before the refusal is passed to the agent. */
export const DEFAULT_MAX_RETRIES = 4;
/** Statuses that mean "too much load, try later": rate limited, overloaded, unavailable. */
const LOAD_STATUSES = new Set([429, 503, 529]);

const usd = (n: number): string => `$${n.toFixed(4)}`;

/**
 * The fleet's control point: one per CLI process (every session of a --multi batch joins it). It
 * owns the limiter (shared with other processes through `store`), the fleet-wide backoff, the
 * exact cost of every session and of the batch, and the budgets the broker enforces.
 */
export class Fleet {
  readonly limiter: FleetLimiter;
  private readonly members = new Map<string, { opts: MemberOptions; notice?: string }>();
  private batchCost = 0;
  private batchStop: string | undefined;
  private holdTimer: NodeJS.Timeout | undefined;

  private readonly opts: { batchBudgetUsd?: number; maxRetries?: number; clock?: Clock };

  constructor(opts: { limits: FleetLimits; store?: FleetStore; clock?: Clock; random?: () => number; batchBudgetUsd?: number; maxRetries?: number }) {
    this.opts = opts;
    this.limiter = new FleetLimiter(opts.store ?? new MemoryFleetStore(), opts.limits, opts.clock ?? realClock, opts.random);
  }

  /** The batch's exact cost so far. */
  batchCostUsd(): number {
    return roundUsd(this.batchCost);
  }

  /** Why the batch's requests are refused (its --budget is spent), once they are. */
  batchStopped(): string | undefined {
    return this.batchStop;
  }

  private broadcast(e: ModelApiEvent): void {
    for (const m of this.members.values()) m.opts.emit(e);
  }

  /** The whole fleet is held: every session is told once, and again when it resumes. */
  private held(ms: number, reason: string): void {
    this.broadcast({ type: 'model_api', state: 'rate_limited', message: `${reason}; resuming in ${Math.max(1, Math.ceil(ms / 1000))} s`, resumeInMs: ms });
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.broadcast({ type: 'model_api', state: 'resumed', message: 'model API requests resumed' });
    }, ms);
    this.holdTimer.unref();
  }

  /** Adds a session. */
  join(opts: MemberOptions): FleetMember {
    const entry: { opts: MemberOptions; notice?: string } = { opts };
    this.members.set(opts.sessionId, entry);
    let cost = 0;
    let metered = false;
    let ownStop: string | undefined;
    const total: Required<TokenUsage> = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
    const maxRetries = this.opts.maxRetries ?? DEFAULT_MAX_RETRIES;
    const stopped = (): string | undefined => ownStop ?? this.batchStop;
    const stopAll = (reason: string): void => {
      for (const m of this.members.values()) {
        m.opts.emit({ type: 'model_api', state: 'budget_reached', message: reason });
        m.opts.onStop?.(reason);
      }
    };
    // A session that joins after the batch's budget is spent is stopped at once.
    const spent = this.batchStop;
    if (spent !== undefined) queueMicrotask(() => opts.onStop?.(spent));
    return {
      admit: async (signal) => {
        const why = stopped();
        if (why) return { ok: false, status: 400, type: 'invalid_request_error', message: `${why}; no more model requests are allowed for this session` };
        const lease = await this.limiter.acquire(opts.sessionId, {
          signal,
          onWait: (w) => {
            // Said once per kind of wait, not on every poll.
            const kind = w.replace(/\d+(\.\d+)? s\b|\d+/g, '#');
            if (entry.notice === kind) return;
            entry.notice = kind;
            opts.emit({ type: 'model_api', state: 'waiting', message: `model request waiting: ${w}` });
          },
        });
        if (entry.notice !== undefined) {
          entry.notice = undefined;
          opts.emit({ type: 'model_api', state: 'resumed', message: 'model request sent' });
        }
        return { ok: true, lease };
      },
      refused: (status, headers, attempt) => {
        if (!LOAD_STATUSES.has(status) || attempt >= maxRetries) return undefined;
        const ms = this.limiter.backoff(retryAfterMs(headers, (this.opts.clock ?? realClock).now()), `rate limited by the model API (${status})`);
        this.held(ms, `rate limited by the model API (${status}); retry ${attempt + 1}/${maxRetries}`);
        return ms;
      },
      answered: (status, u) => {
        if (status < 400) this.limiter.succeeded();
        if (!u) return;
        metered = true;
        const c = estimateCost(u.model, u.usage);
        cost += c;
        this.batchCost += c;
        total.inputTokens += u.usage.inputTokens;
        total.outputTokens += u.usage.outputTokens;
        total.cacheReadTokens += u.usage.cacheReadTokens;
        total.cacheCreationTokens += u.usage.cacheCreationTokens;
        opts.onCost?.(roundUsd(cost));
        if (opts.budgetUsd !== undefined && ownStop === undefined && cost >= opts.budgetUsd) {
          ownStop = `its cost (${usd(cost)}) passed the budget of $${opts.budgetUsd}`;
          opts.emit({ type: 'model_api', state: 'budget_reached', message: ownStop });
          opts.onStop?.(ownStop);
        }
        const budget = this.opts.batchBudgetUsd;
        if (budget !== undefined && this.batchStop === undefined && this.batchCost >= budget) {
          this.batchStop = `the batch's cost (${usd(this.batchCost)}) passed its --budget of $${budget}`;
          stopAll(this.batchStop);
        }
      },
      costUsd: () => roundUsd(cost),
      usage: () => ({ ...total }),
      metered: () => metered,
      stopped,
      leave: () => {
        this.members.delete(opts.sessionId);
      },
    };
  }

  /** Stops the resume timer (the process is done with the fleet). */
  close(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }
}

/** The limits from config `modelApi` (windowSeconds: 60 unless a test shortens it). */
export function fleetLimits(c: { maxConcurrentRequests?: number | undefined; requestsPerMinute?: number | undefined; tokensPerMinute?: number | undefined; windowSeconds: number }): FleetLimits {
  return {
    ...(c.maxConcurrentRequests !== undefined ? { maxConcurrentRequests: c.maxConcurrentRequests } : {}),
    ...(c.requestsPerMinute !== undefined ? { requestsPerMinute: c.requestsPerMinute } : {}),
    ...(c.tokensPerMinute !== undefined ? { tokensPerMinute: c.tokensPerMinute } : {}),
    windowMs: c.windowSeconds * 1000,
  };
}
