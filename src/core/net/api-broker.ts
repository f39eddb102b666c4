import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
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

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
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
    const out = send(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port || undefined,
        method: req.method,
        path: `${basePath}${req.url ?? '/'}`,
        headers,
      },
      (upRes) => {
        unreachable = undefined;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    out.on('error', (e) => {
      // Only a request that got no answer at all says the API is unreachable (not a stream cut mid-way).
      if (!res.headersSent) unreachable = `${upstream.host}: ${e.message}`;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      // The upstream error names only the host, never the credential.
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `parallel-cc broker: cannot reach ${upstream.host}: ${e.message}` } }));
    });
    req.pipe(out);
  };

  const server = createServer(handle);
  const close = await listenUnix(server, opts.socketPath);
  return { socketPath: opts.socketPath, rejected: () => rejected, unreachable: () => unreachable, close };
}
