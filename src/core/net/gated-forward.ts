import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { BrokerGate } from './fleet.js';
import { requestModel, UsageTap } from './usage-meter.js';

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

/**
 * Forwards one request through the fleet's gate: it waits for the limiter, goes upstream, and when
 * upstream refuses for load (429/529/503) before any byte reached the agent, the fleet backs off
 * and the broker sends it again, within the gate's retry budget. Once the answer's head went to the
 * agent nothing is replayed: a later error passes through as it is. The answer's usage is read as
 * it streams by and reported to the gate.
 */
export async function forwardGated(opts: {
  req: IncomingMessage;
  res: ServerResponse;
  gate: BrokerGate;
  path: string;
  /** Opens the upstream request (method, path and headers already set). */
  open: (onResponse: (r: IncomingMessage) => void) => ClientRequest;
  apiError: (res: ServerResponse, status: number, type: string, message: string) => void;
  /** The upstream could not be reached at all (`undefined`: it answered). */
  reachable: (why: string | undefined) => void;
  host: string;
}): Promise<void> {
  const { req, res, gate } = opts;
  const body = await readBody(req);
  if (body === undefined) {
    if (!res.destroyed) opts.apiError(res, 413, 'request_too_large', `request bodies are limited to ${MAX_REQUEST_BYTES} bytes`);
    return;
  }
  const model = requestModel(opts.path, body);
  // The agent hung up (it was stopped): stop waiting for it.
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  for (let attempt = 0; ; attempt++) {
    let admitted;
    try {
      admitted = await gate.admit(gone.signal);
    } catch {
      res.destroy();
      return;
    }
    if (!admitted.ok) {
      opts.apiError(res, admitted.status, admitted.type, admitted.message);
      return;
    }
    const { lease } = admitted;
    const up = await new Promise<IncomingMessage | Error>((resolve) => {
      try {
        const out = opts.open(resolve);
        out.on('error', resolve);
        out.end(body);
      } catch (e) {
        resolve(e as Error);
      }
    });
    if (up instanceof Error) {
      lease.release(0);
      opts.reachable(`${opts.host}: ${up.message}`);
      opts.apiError(res, 502, 'api_error', `cannot reach ${opts.host}: ${up.message}`);
      return;
    }
    opts.reachable(undefined);
    lease.answered();
    const status = up.statusCode ?? 502;
    const wait = status >= 400 && !gone.signal.aborted ? gate.refused(status, up.headers, attempt) : undefined;
    if (wait !== undefined) {
      // Nothing of this answer reaches the agent; the fleet's hold delays the next admission.
      up.resume();
      lease.release(0);
      continue;
    }
    const tap = new UsageTap(up.headers['content-type'], model);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      // A cut stream is billed for what was reported before the cut.
      const u = tap.end();
      lease.release(u ? u.usage.inputTokens + u.usage.outputTokens + u.usage.cacheReadTokens + u.usage.cacheCreationTokens : 0);
      gate.answered(status, u);
    };
    up.on('data', (c: Buffer) => tap.push(c));
    up.on('end', finish);
    up.on('close', finish);
    up.on('error', () => {
      finish();
      res.destroy();
    });
    try {
      res.writeHead(status, up.headers);
    } catch {
      up.destroy();
      finish();
      opts.apiError(res, 502, 'api_error', `${opts.host} sent a response that cannot be forwarded`);
      return;
    }
    up.pipe(res);
    return;
  }
}
