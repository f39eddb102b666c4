import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
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

const HOP_HEADERS = ['host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'transfer-encoding', 'upgrade', 'x-api-key', 'authorization'];

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
    const key = req.headers['x-api-key'];
    const bearer = req.headers.authorization;
    if (key !== opts.placeholder && bearer !== `Bearer ${opts.placeholder}`) {
      rejected += 1;
      req.resume();
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'parallel-cc broker: invalid session key' } }));
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.includes(k)) headers[k] = v;
    if (opts.credential.kind === 'api-key') headers['x-api-key'] = opts.credential.value;
    else {
      headers.authorization = `Bearer ${opts.credential.value}`;
      // OAuth access tokens (a Claude login) are accepted by the API only with this beta flag.
      const betas = String(headers['anthropic-beta'] ?? '').split(',').map((b) => b.trim()).filter(Boolean);
      if (!betas.includes(OAUTH_BETA)) headers['anthropic-beta'] = [...betas, OAUTH_BETA].join(',');
    }
    const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
    try {
      const out = send(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port || undefined,
          method: req.method,
          path: `${basePath}${target}`,
          headers,
        },
        (upRes) => {
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
        },
      );
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
  const close = await listenUnix(server, opts.socketPath);
  return { socketPath: opts.socketPath, rejected: () => rejected, unreachable: () => unreachable, close };
}
