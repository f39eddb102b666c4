import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WORKFLOW_NAME } from './definition.js';

/** The headers of a trigger request. */
export const SIGNATURE_HEADER = 'x-parallel-cc-signature-256';
export const TIMESTAMP_HEADER = 'x-parallel-cc-timestamp';
export const DELIVERY_HEADER = 'x-parallel-cc-delivery';

/** How far a request's timestamp may be from our clock (seconds): older ones are replays. */
export const MAX_SKEW_SECONDS = 300;
/** Largest body accepted (a repository_dispatch / Zapier payload is small). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The signature of a trigger: `sha256=` + hex HMAC-SHA256 with the workflow's secret over
 * `<timestamp>.<delivery id>.<body>`, so neither the time nor the id can be changed on a replay.
 */
export function signTrigger(secret: string, timestamp: string, delivery: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${delivery}.`).update(body).digest('hex')}`;
}

/** What the trigger server needs: each workflow's secret (undefined: no such workflow), how to start one, the clock. */
export interface TriggerDeps {
  secretOf(name: string): Promise<string | undefined>;
  /** Starts the workflow; resolves with its session ids once they exist (or the run ended without one). */
  trigger(name: string, delivery: string): Promise<{ sessionIds: string[]; exitCode?: number }>;
  now: () => Date;
  /**
   * Takes a delivery id once: false when it was taken before (a replay). Default: kept in memory
   * for the skew window; the CLI keeps them on disk so a restarted server remembers them too.
   */
  claimDelivery?: (delivery: string) => Promise<boolean>;
  /** Told of every request and its answer (for the server's log on stderr). */
  log(line: string): void;
}

/** A running trigger server. */
export interface TriggerServer {
  port: number;
  close(): Promise<void>;
}

const send = (res: http.ServerResponse, status: number, body: Record<string, unknown>): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
};

const header = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/** Reads the body up to the limit; undefined when it is larger. */
function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Listens on 127.0.0.1 for `POST /workflows/<name>`, signed with the workflow's secret (see
 * {@link signTrigger}), with a timestamp within {@link MAX_SKEW_SECONDS} and a delivery id never
 * seen before (GitHub's `X-GitHub-Delivery` style). Anything else is refused before a workflow is
 * looked at: a wrong or missing signature, an unknown workflow and a replay all get the same 401,
 * and start nothing. A good one answers 202 with the session ids.
 */
export async function startTriggerServer(port: number, deps: TriggerDeps): Promise<TriggerServer> {
  // Delivery ids seen, with when: kept for the skew window (older requests are refused anyway).
  const seen = new Map<string, number>();
  const claim =
    deps.claimDelivery ??
    ((delivery: string): Promise<boolean> => {
      const now = deps.now().getTime();
      for (const [id, t] of seen) if (now - t > 2 * MAX_SKEW_SECONDS * 1000) seen.delete(id);
      if (seen.has(delivery)) return Promise.resolve(false);
      seen.set(delivery, now);
      return Promise.resolve(true);
    });
  const refuse = (res: http.ServerResponse, why: string): void => {
    deps.log(`refused: ${why}`);
    send(res, 401, { error: 'unauthorized' });
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const m = /^\/workflows\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return send(res, 404, { error: 'POST /workflows/<name>' });
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    const name = decodeURIComponent(m[1] ?? '');
    const signature = header(req, SIGNATURE_HEADER);
    const timestamp = header(req, TIMESTAMP_HEADER);
    const delivery = header(req, DELIVERY_HEADER);
    if (!signature || !timestamp || !delivery) return refuse(res, `${name}: missing ${[!signature && 'signature', !timestamp && 'timestamp', !delivery && 'delivery id'].filter(Boolean).join(', ')}`);
    const secret = WORKFLOW_NAME.test(name) ? await deps.secretOf(name) : undefined;
    if (secret === undefined) return refuse(res, `${name}: no such workflow`);
    const expected = Buffer.from(signTrigger(secret, timestamp, delivery, body));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse(res, `${name}: wrong signature`);
    const now = deps.now().getTime();
    const at = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) * 1000 : NaN;
    if (!Number.isFinite(at) || Math.abs(now - at) > MAX_SKEW_SECONDS * 1000) return refuse(res, `${name}: timestamp outside ${MAX_SKEW_SECONDS}s (a replay or a wrong clock)`);
    if (!(await claim(delivery))) return refuse(res, `${name}: delivery ${delivery} was already taken (a replay)`);
    const started = await deps.trigger(name, delivery);
    deps.log(`started ${name} (delivery ${delivery}): ${started.sessionIds.join(', ') || 'no session'}`);
    send(res, 202, { workflow: name, delivery, sessionIds: started.sessionIds, ...(started.exitCode !== undefined ? { exitCode: started.exitCode } : {}) });
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      deps.log(`error: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
