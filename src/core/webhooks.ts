import { createHmac, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { RunSummary } from './events.js';

/** The session lifecycle events a webhook can receive (spec 002's event bus). */
export const WEBHOOK_EVENTS = ['created', 'started', 'completed', 'failed', 'timed_out', 'killed', 'over_budget', 'alert', 'batch_finished'] as const;
/** One lifecycle event name. */
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** One configured receiver (config `webhooks`, or `--webhook URL`). */
export interface WebhookConfig {
  url: string;
  /** The events it gets (default: all). */
  events?: readonly WebhookEvent[];
  /** Signs each body: `X-Parallel-CC-Signature-256: sha256=<HMAC-SHA256 hex>`. */
  secret?: string;
  /** `generic` (our JSON), `github` (a repository_dispatch body), `slack` (an incoming-webhook text). */
  format?: 'generic' | 'github' | 'slack';
  /** Send the prompt text too (off by default). */
  includePrompt?: boolean;
  /** Extra request headers (e.g. Authorization for GitHub's dispatches API); never logged. */
  headers?: Record<string, string>;
}

/** What an event says about its session (or batch). Redacted before it leaves. */
export type WebhookPayload = Record<string, unknown> & { prompt?: string };

/** How long one request may take, the retry delays, and the most the end of a run waits for deliveries. */
const REQUEST_TIMEOUT_MS = 5_000;
const RETRY_DELAYS_MS = [200, 600];
export const DRAIN_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** What a session's end tells a receiver: the summary's facts (never its log path or worktree). */
export function summaryPayload(s: RunSummary): WebhookPayload {
  return {
    status: s.status,
    exitCode: s.exitCode,
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.error ? { error: s.error } : {}),
    commits: s.commits,
    filesChanged: s.filesChanged.length,
    costUsd: s.costUsd,
    ...(s.sandboxCostUsd !== undefined ? { sandboxCostUsd: s.sandboxCostUsd } : {}),
    durationMs: s.durationMs,
    branch: s.worktree ? s.branch : null,
  };
}

/** The body a receiver gets in its format. */
export function webhookBody(format: WebhookConfig['format'], event: WebhookEvent, ts: string, payload: WebhookPayload): unknown {
  const generic = { event, ts, ...payload };
  const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  switch (format ?? 'generic') {
    case 'github':
      return { event_type: `parallel-cc.${event}`, client_payload: generic };
    case 'slack': {
      const id = str(payload.sessionId ?? payload.groupId);
      const what = payload.branch ? ` · branch ${str(payload.branch)}` : '';
      return { text: `parallel-cc ${event === 'batch_finished' ? 'batch' : 'session'} ${id} ${event}${what}${payload.error ? ` · ${str(payload.error)}` : ''}` };
    }
    case 'generic':
      return generic;
  }
}

/** The signature header value of a body. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Delivers lifecycle events to the configured receivers in the background: each receiver gets its
 * events in order (one queue per receiver), signed, with two retries on 5xx/429/network errors.
 * Nothing here can fail or block a run: errors go to the delivery log (`webhooks.ndjson`), and
 * {@link drain} waits at most {@link DRAIN_MS} in all before the process moves on.
 */
export class WebhookNotifier {
  private readonly queues: Array<Promise<void>>;

  constructor(
    private readonly receivers: readonly WebhookConfig[],
    private readonly opts: { logPath: string; redact: <T>(v: T) => T; now: () => Date; fetch?: typeof fetch },
  ) {
    this.queues = receivers.map(() => Promise.resolve());
  }

  /** Queues an event for every receiver that wants it. */
  notify(event: WebhookEvent, payload: WebhookPayload): void {
    const ts = this.opts.now().toISOString();
    this.receivers.forEach((r, i) => {
      if (r.events && !r.events.includes(event)) return;
      const { prompt, ...rest } = payload;
      const body = JSON.stringify(this.opts.redact(webhookBody(r.format, event, ts, { ...rest, ...(r.includePrompt && prompt !== undefined ? { prompt } : {}) })));
      this.queues[i] = (this.queues[i] as Promise<void>).then(() => this.deliver(r, event, body));
    });
  }

  /** Waits for queued deliveries, at most `ms` in all; what is still pending is logged as abandoned. */
  async drain(ms = DRAIN_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([Promise.all(this.queues).then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
    clearTimeout(timer);
    if (!done) this.log({ event: 'drain', outcome: 'abandoned', detail: `deliveries still pending after ${ms} ms were abandoned` });
  }

  private log(entry: Record<string, unknown>): void {
    try {
      appendFileSync(this.opts.logPath, `${JSON.stringify({ ts: this.opts.now().toISOString(), ...entry })}\n`, { mode: 0o600 });
    } catch {
      // A delivery log that cannot be written must not fail the run either.
    }
  }

  private async deliver(r: WebhookConfig, event: WebhookEvent, body: string): Promise<void> {
    const id = randomUUID();
    // Query strings may carry tokens (Slack/Zapier hooks): the log shows the origin and path only.
    const where = (() => {
      try {
        const u = new URL(r.url);
        return `${u.origin}${u.pathname}`;
      } catch {
        return '(invalid url)';
      }
    })();
    for (let attempt = 1; attempt <= RETRY_DELAYS_MS.length + 1; attempt++) {
      const started = Date.now();
      let status: number | undefined;
      let error: string | undefined;
      try {
        const res = await (this.opts.fetch ?? fetch)(r.url, {
          method: 'POST',
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'parallel-cc-webhooks',
            'x-parallel-cc-event': event,
            'x-parallel-cc-delivery': id,
            ...(r.secret ? { 'x-parallel-cc-signature-256': webhookSignature(r.secret, body) } : {}),
            ...(r.headers ?? {}),
          },
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (e) {
        error = (e as Error).name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : (e as Error).message;
      }
      const retry = error !== undefined || status === 429 || (status !== undefined && status >= 500);
      const outcome = !retry && status !== undefined && status < 300 ? 'delivered' : retry && attempt <= RETRY_DELAYS_MS.length ? 'retrying' : 'failed';
      this.log({ event, delivery: id, url: where, attempt, outcome, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}), durationMs: Date.now() - started });
      if (outcome !== 'retrying') return;
      await sleep(RETRY_DELAYS_MS[attempt - 1] as number);
    }
  }
}
