import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { BrokerGate } from './fleet.js';
import type { Lease } from './fleet-limiter.js';
import { requestModel, UsageTap, type MeteredUsage } from './usage-meter.js';

/** Largest request body the broker buffers (it must, to retry a refused request); a model request is far smaller. */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

/** Reads the whole request body, or undefined when it passes the limit or the client goes away. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size <= MAX_REQUEST_BYTES ? Buffer.concat(chunks) : undefined));
    req.on('error', () => resolve(undefined));
    req.on('aborted', () => resolve(undefined));
  });
}

/** What {@link forwardGated} needs from the broker. */
export interface GatedForward {
  req: IncomingMessage;
  res: ServerResponse;
  gate: BrokerGate;
  path: string;
  /** Opens the upstream request (method, path and headers already set); it may throw for a request Node will not send. */
  open: (onResponse: (r: IncomingMessage) => void) => ClientRequest;
  apiError: (res: ServerResponse, status: number, type: string, message: string) => void;
  /** The upstream could not be reached at all (`undefined`: it answered). */
  reachable: (why: string | undefined) => void;
  host: string;
}

/** The upstream's answer to one attempt, or why there is none. */
type Head = { kind: 'answer'; up: IncomingMessage } | { kind: 'error'; error: Error } | { kind: 'refused' } | { kind: 'gone' };

const tokens = (u: MeteredUsage | undefined): number => (u ? u.usage.inputTokens + u.usage.outputTokens + u.usage.cacheReadTokens + u.usage.cacheCreationTokens : 0);

/**
 * Forwards one request through the fleet's gate: it waits for the limiter, goes upstream, and when
 * upstream refuses for load (429/529/503) before any byte reached the agent, the fleet backs off
 * and the broker sends it again, within the gate's retry budget. Once the answer's head went to the
 * agent nothing is replayed: a later error passes through as it is. The answer's usage is read as
 * it streams by and reported to the gate.
 *
 * It never rejects, and each admitted attempt gives its lease back exactly once, when its answer
 * ends or the agent hangs up, whichever comes first: after the agent left nothing waits on upstream
 * (the upstream request is destroyed and what the tap read so far is billed). An error of its own
 * (a store or gate that throws) answers a 502 when no head was sent yet, else cuts the response.
 */
export async function forwardGated(opts: GatedForward): Promise<void> {
  const { res } = opts;
  // The agent hung up (it was stopped, or gave up): whatever this request waits for stops at once.
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  try {
    const body = await readBody(opts.req);
    if (body === undefined) {
      if (!res.destroyed) opts.apiError(res, 413, 'request_too_large', `request bodies are limited to ${MAX_REQUEST_BYTES} bytes`);
      return;
    }
    const model = requestModel(opts.path, body);
    for (let attempt = 0; ; attempt++) {
      let admitted;
      try {
        admitted = await opts.gate.admit(gone.signal);
      } catch (e) {
        if (gone.signal.aborted) return;
        throw e;
      }
      if (!admitted.ok) {
        opts.apiError(res, admitted.status, admitted.type, admitted.message);
        return;
      }
      if (!(await sendOnce(opts, admitted.lease, { body, model, attempt, gone: gone.signal }))) return;
    }
  } catch {
    // Nothing of the error goes to the sandbox; the response ends cleanly either way.
    if (res.headersSent || res.destroyed) res.destroy();
    else opts.apiError(res, 502, 'api_error', 'internal error while forwarding this request (it was not retried)');
  }
}

/**
 * One admitted attempt: sends the request upstream and streams its answer to the agent. Returns
 * true when upstream refused for load and the fleet's hold says to send it again.
 */
async function sendOnce(opts: GatedForward, lease: Lease, a: { body: Buffer; model: string | undefined; attempt: number; gone: AbortSignal }): Promise<boolean> {
  const { res, gate } = opts;
  let status: number | undefined;
  let tap: UsageTap | undefined;
  let settled = false;
  // Exactly once, whatever ends the attempt: the slot goes back with the tokens read, the gate is told.
  const settle = (): void => {
    if (settled) return;
    settled = true;
    // A cut stream is billed for what was reported before the cut; the slot goes back even if reading it throws.
    let u: MeteredUsage | undefined;
    try {
      u = tap?.end();
    } finally {
      lease.release(tokens(u));
    }
    if (tap && status !== undefined) gate.answered(status, u);
  };
  try {
    const h = await head(opts, a.body, a.gone);
    if (h.kind === 'gone') return false;
    if (h.kind === 'refused') {
      // Node would not send it (a header value it refuses): the sandbox's request, not the API, is at fault.
      opts.apiError(res, 400, 'invalid_request_error', 'this request cannot be forwarded (a header or the path is not valid HTTP)');
      return false;
    }
    if (h.kind === 'error') {
      opts.reachable(`${opts.host}: ${h.error.message}`);
      opts.apiError(res, 502, 'api_error', `cannot reach ${opts.host}: ${h.error.message}`);
      return false;
    }
    const { up } = h;
    opts.reachable(undefined);
    lease.answered();
    const code = up.statusCode ?? 502;
    const wait = code >= 400 && !a.gone.aborted ? gate.refused(code, up.headers, a.attempt) : undefined;
    if (wait !== undefined) {
      // Nothing of this answer reaches the agent; the fleet's hold delays the next admission.
      up.resume();
      return true;
    }
    status = code;
    tap = new UsageTap(up.headers['content-type'], a.model);
    await stream(opts, up, tap, a.gone);
    return false;
  } finally {
    settle();
  }
}

/** Sends the request; resolves with upstream's head, the error that kept it from answering, or the agent's hang-up. */
function head(opts: GatedForward, body: Buffer, gone: AbortSignal): Promise<Head> {
  return new Promise<Head>((resolve) => {
    let out: ClientRequest | undefined;
    let done = false;
    const settle = (h: Head): void => {
      if (done) return;
      done = true;
      gone.removeEventListener('abort', onGone);
      resolve(h);
    };
    const onGone = (): void => {
      out?.destroy();
      settle({ kind: 'gone' });
    };
    if (gone.aborted) return settle({ kind: 'gone' });
    gone.addEventListener('abort', onGone, { once: true });
    try {
      // An answer that comes after the agent left is dropped with its connection.
      out = opts.open((up) => (done ? up.destroy() : settle({ kind: 'answer', up })));
    } catch {
      return settle({ kind: 'refused' });
    }
    // Kept for the request's whole life: an error after the head (a cut stream) must not go unheard.
    out.on('error', (error) => settle({ kind: 'error', error }));
    out.end(body);
  });
}

/**
 * Streams upstream's answer to the agent through the usage tap. Resolves once the answer ended, or
 * at once when the agent hung up (the upstream request is destroyed then: nothing waits on it).
 * Rejects when the tap throws.
 */
function stream(opts: GatedForward, up: IncomingMessage, tap: UsageTap, gone: AbortSignal): Promise<void> {
  const { res } = opts;
  return new Promise<void>((resolve, reject) => {
    const end = (): void => {
      gone.removeEventListener('abort', onGone);
      resolve();
    };
    const onGone = (): void => {
      if (!up.complete) up.destroy();
      end();
    };
    up.on('data', (c: Buffer) => {
      try {
        tap.push(c);
      } catch (e) {
        up.destroy();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    up.on('end', end);
    up.on('close', end);
    up.on('error', () => {
      res.destroy();
      end();
    });
    try {
      res.writeHead(up.statusCode ?? 502, up.headers);
    } catch {
      up.destroy();
      opts.apiError(res, 502, 'api_error', `${opts.host} sent a response that cannot be forwarded`);
      end();
      return;
    }
    if (gone.aborted) return onGone();
    gone.addEventListener('abort', onGone, { once: true });
    up.pipe(res);
  });
}
