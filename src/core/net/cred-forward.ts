import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { answerClientError, MAX_HEADER_BYTES, printable, rawResponse } from './http-guard.js';
import { listenUnix } from './unix-server.js';

/**
 * Per-session credential forwarders (`--npm-token`, `--github-token`): a plain-HTTP endpoint the
 * sandbox reaches on a loopback port (a host unix socket bridged in, like the model API broker)
 * that forwards to one configured upstream with the credential added. The sandbox never holds the
 * token; it can only make the requests {@link ForwardKind} allows, to that one host, while the
 * session runs. Everything that arrives is hostile: origin-form paths only (no absolute URL, no
 * Host header choosing the target), no `..` segments, bounded bodies, only the methods and paths
 * the package manager needs.
 */

/** Which client a forwarder serves; decides what requests it lets through. */
export type ForwardKind = 'npm' | 'git';

/** One forwarded (or refused) request, for the session's egress log: never the credential. */
export interface ForwardRecord {
  ts: string;
  via: ForwardKind;
  method: string;
  host: string;
  port: number;
  path: string;
  allowed: boolean;
  status?: number;
  reason?: string;
}

/** A running forwarder. */
export interface CredForwarder {
  kind: ForwardKind;
  socketPath: string;
  close(): Promise<void>;
}

/** Largest request body forwarded (a git fetch negotiation of a big repo stays well below). */
export const MAX_FORWARD_BODY = 32 * 1024 * 1024;

/** Never forwarded from the sandbox: hop-by-hop headers, anything naming a host, any credential. */
const DROP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'transfer-encoding', 'upgrade', 'authorization', 'cookie', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'te', 'trailer', 'expect']);

/** The header that carries the token upstream: npm registries take a bearer token, GitHub's git over HTTPS Basic `x-access-token:<token>`. */
export function credentialHeader(kind: ForwardKind, token: string): string {
  return kind === 'npm' ? `Bearer ${token}` : `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/** The upstream's path prefix without a trailing slash ('' for a registry at the root). */
export function basePathOf(upstream: URL): string {
  return upstream.pathname.replace(/\/+$/, '');
}

/** Why a request must not be forwarded, or undefined when it may be. `path` is the raw origin-form target. */
export function refuseReason(kind: ForwardKind, method: string, target: string, basePath: string): string | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return 'expected an origin-form request path';
  if (/[\\\s#]|[^\x21-\x7e]/.test(target)) return 'invalid characters in the request path';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  let segments: string[];
  try {
    segments = path.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return 'malformed percent-encoding';
  }
  if (segments.some((s) => s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) return 'dot segments are not allowed';
  if (basePath && path !== basePath && !path.startsWith(`${basePath}/`)) return `outside ${basePath}/`;
  const rest = path.slice(basePath.length);
  if (kind === 'npm') {
    // Installing reads packuments and tarballs; publishing, unpublishing and token calls are not for the sandbox.
    if (method !== 'GET' && method !== 'HEAD') return `${method} is not allowed (the registry endpoint is read-only)`;
    // Judged on the raw and the decoded path: a registry that decodes before routing reads /%2D/ as /-/.
    const api = (p: string): boolean => p.startsWith('/-/') && !/^\/-\/(v1\/search|ping)/.test(p);
    if (api(rest) || api(segments.join('/').slice(basePath.length))) return 'registry API calls other than search and ping are not allowed';
    return undefined;
  }
  // git smart HTTP, fetch only: /<owner>/<repo>[.git]/info/refs?service=git-upload-pack and POST …/git-upload-pack.
  const m = /^\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+\/(info\/refs|git-upload-pack)$/.exec(rest);
  if (!m) return 'only git fetches (smart HTTP upload-pack) are forwarded';
  if (m[1] === 'info/refs') return method === 'GET' && query === 'service=git-upload-pack' ? undefined : 'only GET info/refs?service=git-upload-pack is allowed (no push)';
  return method === 'POST' && query === '' ? undefined : 'only POST git-upload-pack is allowed';
}

/**
 * Starts one forwarder on a unix socket: requests the sandbox sends to it go to `upstream`
 * (same path, which must lie below the upstream's own path) with `Authorization` set to the
 * credential. Each request is recorded (method, host, path, status; never the token).
 */
export async function startCredForwarder(opts: {
  kind: ForwardKind;
  socketPath: string;
  upstream: string;
  token: string;
  record: (r: ForwardRecord) => void;
  now?: () => Date;
}): Promise<CredForwarder> {
  const upstream = new URL(opts.upstream);
  const basePath = basePathOf(upstream);
  const port = Number(upstream.port || (upstream.protocol === 'https:' ? 443 : 80));
  const now = opts.now ?? (() => new Date());
  const auth = credentialHeader(opts.kind, opts.token);
  const log = (method: string, path: string, r: { allowed: boolean; status?: number; reason?: string }): void =>
    opts.record({ ts: now().toISOString(), via: opts.kind, method: printable(method, 16), host: upstream.hostname, port, path: printable(path, 300), ...r });
  const fail = (res: ServerResponse, status: number, message: string): void => {
    if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`parallel-cc ${opts.kind} endpoint: ${message}\n`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => res.destroy());
    const method = req.method ?? 'GET';
    const target = req.url ?? '';
    const why = refuseReason(opts.kind, method, target, basePath);
    const declared = Number(req.headers['content-length'] ?? 0);
    const reason = why ?? (Number.isFinite(declared) && declared > MAX_FORWARD_BODY ? 'request body too large' : undefined);
    if (reason) {
      // The body is not wanted: answer and close rather than read what may be megabytes of it.
      res.shouldKeepAlive = false;
      req.resume();
      log(method, target, { allowed: false, status: 403, reason });
      fail(res, 403, reason);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP_HEADERS.has(k)) headers[k] = v;
    headers.authorization = auth;
    const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
    let sent = 0;
    try {
      const out = send({ protocol: upstream.protocol, hostname: upstream.hostname, port, method, path: target, headers }, (upRes) => {
        upRes.on('error', () => res.destroy());
        log(method, target, { allowed: true, status: upRes.statusCode ?? 502 });
        const h = { ...upRes.headers };
        // Never let an upstream cookie or auth challenge teach the sandbox anything about the credential.
        delete h['set-cookie'];
        delete h['www-authenticate'];
        try {
          res.writeHead(upRes.statusCode ?? 502, h);
        } catch {
          upRes.destroy();
          fail(res, 502, `${upstream.host} sent a response that cannot be forwarded`);
          return;
        }
        upRes.pipe(res);
      });
      out.on('error', (e) => {
        if (!res.headersSent) log(method, target, { allowed: true, status: 502, reason: e.message });
        fail(res, 502, `cannot reach ${upstream.host}: ${e.message}`);
      });
      req.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (sent > MAX_FORWARD_BODY) {
          out.destroy();
          req.destroy();
          res.destroy();
        }
      });
      req.pipe(out);
    } catch {
      req.resume();
      log(method, target, { allowed: false, status: 400, reason: 'cannot be forwarded' });
      fail(res, 400, 'this request cannot be forwarded');
    }
  };

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handle);
  const refuse = (_req: IncomingMessage, socket: Duplex): void => {
    socket.on('error', () => socket.destroy());
    socket.end(rawResponse(405, `parallel-cc ${opts.kind} endpoint: method not allowed\n`));
  };
  server.on('connect', refuse);
  server.on('upgrade', refuse);
  server.on('clientError', answerClientError);
  const close = await listenUnix(server, opts.socketPath);
  return { kind: opts.kind, socketPath: opts.socketPath, close };
}
