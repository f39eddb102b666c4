import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BrokerGate } from './fleet.js';
import { forwardGated } from './gated-forward.js';
import { answerClientError, MAX_HEADER_BYTES, rawResponse } from './http-guard.js';
import { listenUnix } from './unix-server.js';

/** The real credential the broker injects; it never enters a sandbox. */
export type Credential = { kind: 'api-key'; value: string } | { kind: 'bearer'; value: string };

/** A running credential broker. */
export interface ApiBroker {
  socketPath: string;
  /** Requests refused for a wrong or missing placeholder key. */
  rejected(): number;
  /** Why the last request could not reach upstream at all (refused, DNS, TLS); undefined once one got an answer. */
  unreachable(): string | undefined;
  close(): Promise<void>;
}

/** The beta flag the Messages API requires with an OAuth bearer token. */
export const OAUTH_BETA = 'oauth-2025-04-20';

/** Never forwarded: hop-by-hop headers and every header that can carry a model API key. */
const HOP_HEADERS = ['host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'transfer-encoding', 'upgrade', 'x-api-key', 'authorization', 'x-goog-api-key'];

/** The Anthropic headers of a credential (the default when the agent names none). */
export function anthropicHeaders(c: Credential): Record<string, string> {
  return c.kind === 'api-key' ? { 'x-api-key': c.value } : { authorization: `Bearer ${c.value}`, 'anthropic-beta': OAUTH_BETA };
}

/**
 * Where a request carries its key: `x-api-key` (Anthropic), `Authorization: Bearer` (OpenAI, an
 * Anthropic OAuth token), `x-goog-api-key` or the `key` query parameter (Gemini).
 */
function presentedKeys(req: IncomingMessage, url: URL): string[] {
  const keys: string[] = [];
  const one = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const apiKey = one(req.headers['x-api-key']);
  if (apiKey !== undefined) keys.push(apiKey);
  const goog = one(req.headers['x-goog-api-key']);
  if (goog !== undefined) keys.push(goog);
  const bearer = /^Bearer (.+)$/.exec(one(req.headers.authorization) ?? '')?.[1];
  if (bearer !== undefined) keys.push(bearer);
  for (const k of url.searchParams.getAll('key')) keys.push(k);
  return keys;
}

/**
 * Starts the per-session credential broker on a unix socket. The agent inside the sandbox talks to it
 * as if it were the model API, with a per-session placeholder key. The broker checks the placeholder,
 * strips it, injects the real credential and forwards the request (streaming both ways) to upstream.
 */
export async function startApiBroker(opts: {
  socketPath: string;
  upstream: string;
  placeholder: string;
  credential: Credential;
  /**
   * The headers that carry the real credential upstream (the agent's `credential.headers`);
   * default: Anthropic's. An `anthropic-beta` value is added to the request's own flags.
   */
  headers?: Record<string, string>;
  /** The fleet's gate (limiter, backoff, usage, budgets); without one requests stream straight through. */
  gate?: BrokerGate;
}): Promise<ApiBroker> {
  const upstream = new URL(opts.upstream);
  const basePath = upstream.pathname.replace(/\/$/, '');
  let rejected = 0;
  let unreachable: string | undefined;

  const apiError = (res: ServerResponse, status: number, type: string, message: string): void => {
    if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type, message: `parallel-cc broker: ${message}` } }));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => res.destroy());
    // Origin form only (`/v1/messages`): an absolute URI or `*` would let the sandbox pick the path prefix.
    const target = req.url ?? '';
    if (!target.startsWith('/') || target.startsWith('//')) {
      req.resume();
      apiError(res, 400, 'invalid_request_error', 'expected a request path such as /v1/messages');
      return;
    }
    const url = new URL(target, 'http://broker.invalid');
    const keys = presentedKeys(req, url);
    // Every key the request carries must be the placeholder, and there must be one.
    if (keys.length === 0 || keys.some((k) => k !== opts.placeholder)) {
      rejected += 1;
      req.resume();
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'parallel-cc broker: invalid session key' } }));
      return;
    }
    url.searchParams.delete('key');
    const forwardPath = `${url.pathname}${url.search}`;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.includes(k)) headers[k] = v;
    for (const [name, value] of Object.entries(opts.headers ?? anthropicHeaders(opts.credential))) {
      const k = name.toLowerCase();
      if (k === 'anthropic-beta') {
        // OAuth access tokens (a Claude login) are accepted by the API only with this beta flag.
        const betas = String(headers[k] ?? '').split(',').map((b) => b.trim()).filter(Boolean);
        if (!betas.includes(value)) headers[k] = [...betas, value].join(',');
      } else headers[k] = value;
    }
    const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
    const open = (onResponse: (r: IncomingMessage) => void): ClientRequest =>
      send({ protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port || undefined, method: req.method, path: `${basePath}${forwardPath}`, headers }, onResponse);
    if (opts.gate) {
      const reachable = (why: string | undefined): void => void (unreachable = why);
      forwardGated({ req, res, gate: opts.gate, path: url.pathname, open, apiError, reachable, host: upstream.host }).catch(() => res.destroy());
      return;
    }
    try {
      const out = open((upRes) => {
        unreachable = undefined;
        upRes.on('error', () => res.destroy());
        try {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        } catch {
          upRes.destroy();
          apiError(res, 502, 'api_error', `${upstream.host} sent a response that cannot be forwarded`);
          return;
        }
        upRes.pipe(res);
      });
      // The upstream error names only the host, never the credential.
      out.on('error', (e) => {
        // Only a request that got no answer at all says the API is unreachable (not a stream cut mid-way).
        if (!res.headersSent) unreachable = `${upstream.host}: ${e.message}`;
        apiError(res, 502, 'api_error', `cannot reach ${upstream.host}: ${e.message}`);
      });
      req.pipe(out);
    } catch {
      // Node refused the request as given (a header value it will not send): the sandbox's fault.
      req.resume();
      apiError(res, 400, 'invalid_request_error', 'this request cannot be forwarded');
    }
  };

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handle);
  // The broker is an API endpoint, not a proxy: CONNECT and protocol upgrades get a 405.
  const refuse = (_req: IncomingMessage, socket: Duplex): void => {
    socket.on('error', () => socket.destroy());
    socket.end(rawResponse(405, '{"type":"error","error":{"type":"invalid_request_error","message":"parallel-cc broker: method not allowed"}}', 'application/json'));
  };
  server.on('connect', refuse);
  server.on('upgrade', refuse);
  server.on('clientError', answerClientError);
  // Every connection, including those Node no longer tracks (a refused CONNECT, a malformed
  // request's socket): closing the broker destroys them rather than waiting for the sandbox to hang up.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const close = await listenUnix(server, opts.socketPath, () => sockets.forEach((s) => s.destroy()));
  return { socketPath: opts.socketPath, rejected: () => rejected, unreachable: () => unreachable, close };
}
