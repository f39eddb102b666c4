import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lookup } from 'node:dns/promises';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenUnix } from './unix-server.js';
import { isPrivateAddress, isValidHost, isValidPort, type Allowlist } from './allowlist.js';
import { answerClientError, MAX_HEADER_BYTES, printable, rawResponse } from './http-guard.js';

/** One connection attempt through the egress proxy (one NDJSON line of the egress log). */
export interface EgressRecord {
  ts: string;
  method: string;
  host: string;
  port: number;
  allowed: boolean;
  reason?: string;
  bytesUp: number;
  bytesDown: number;
}

/** A running egress proxy. */
export interface EgressProxy {
  socketPath: string;
  /** Number of denied attempts so far (malformed requests included). */
  denied(): number;
  close(): Promise<void>;
}

/** Decides whether host:port may be reached, resolving the name to refuse private addresses. */
async function decide(allow: Allowlist, host: string, port: number): Promise<{ ok: boolean; reason?: string; address?: string }> {
  const match = allow.match(host, port);
  if (!match) return { ok: false, reason: 'not in allowlist' };
  try {
    const { address } = await lookup(host);
    // Private and loopback targets only when the exact host name was allowlisted (a test server,
    // a local registry), never through a wildcard: *.example.com must not reach 127.0.0.1.
    if (isPrivateAddress(address) && match !== 'exact') return { ok: false, reason: `resolves to private address ${address}` };
    return { ok: true, address };
  } catch (e) {
    return { ok: false, reason: `cannot resolve: ${(e as Error).message}` };
  }
}

/**
 * Parses a CONNECT target (authority form `host:port`, `[v6]:port`); undefined when it is not one.
 * Everything the sandbox sends is hostile: the port must be 1-65535 before any socket sees it.
 */
export function parseAuthority(target: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]/@?#\s]+):(\d{1,5})$/i.exec(target);
  if (!m || !isValidPort(m[2] as string)) return undefined;
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  return isValidHost(host) ? { host, port: Number(m[2]) } : undefined;
}

/** Parses an absolute-form `http://host[:port]/path` request target; a reason string when it is not one. */
export function parseAbsoluteUrl(target: string): URL | string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return 'expected an absolute http:// URL';
  }
  if (url.protocol !== 'http:') return 'only http:// URLs can be proxied without CONNECT';
  if (!target.toLowerCase().startsWith('http://')) return 'expected an absolute http:// URL';
  if (!isValidHost(url.hostname.replace(/^\[|\]$/g, ''))) return 'not a valid host name';
  if (url.port !== '' && !isValidPort(url.port)) return 'port outside 1-65535';
  return url;
}

/**
 * Starts the per-session egress proxy on a unix socket. It speaks HTTP CONNECT (for HTTPS) and plain
 * HTTP forward proxying, lets through only allowlisted hosts, and records every attempt (allowed or
 * not, with byte counts) through `record`. Malformed requests get a 4xx and never an exception.
 */
export async function startEgressProxy(opts: {
  socketPath: string;
  allowlist: Allowlist;
  record: (r: EgressRecord) => void;
  now?: () => Date;
}): Promise<EgressProxy> {
  const now = opts.now ?? (() => new Date());
  let deniedCount = 0;
  let closed = false;
  const sockets = new Set<Socket | Duplex>();
  const log = (r: Omit<EgressRecord, 'ts'>): void => {
    if (!r.allowed) deniedCount += 1;
    try {
      opts.record({ ts: now().toISOString(), ...r });
    } catch {
      // A full disk must not take the proxy down; the count above stays true.
    }
  };
  const malformed = (method: string, target: string, reason: string): void =>
    log({ method: printable(method, 16), host: printable(target, 120) || '(unparsable request)', port: 0, allowed: false, reason: `bad request: ${reason}`, bytesUp: 0, bytesDown: 0 });

  const onConnect = (req: IncomingMessage, client: Duplex, head: Buffer): void => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const target = parseAuthority(req.url ?? '');
    if (!target) {
      malformed('CONNECT', req.url ?? '', 'CONNECT needs host:port with a port from 1 to 65535');
      client.end(rawResponse(400, 'parallel-cc egress proxy: CONNECT needs host:port with a port from 1 to 65535\n'));
      return;
    }
    const { host, port } = target;
    decide(opts.allowlist, host, port)
      .then((d) => {
        if (closed || client.destroyed) return void client.destroy();
        if (!d.ok || !d.address) {
          log({ method: 'CONNECT', host, port, allowed: false, reason: d.reason ?? 'denied', bytesUp: 0, bytesDown: 0 });
          client.end(rawResponse(403, `parallel-cc egress proxy: ${host}:${port} is not allowed (${d.reason ?? 'denied'})\n`));
          return;
        }
        const upstream = connect(port, d.address);
        sockets.add(upstream);
        let up = head.length;
        let down = 0;
        upstream.on('connect', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length > 0) upstream.write(head);
          client.on('data', (c: Buffer) => (up += c.length));
          upstream.on('data', (c: Buffer) => (down += c.length));
          client.pipe(upstream).pipe(client);
        });
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
          log({ method: 'CONNECT', host, port, allowed: true, bytesUp: up, bytesDown: down });
        });
      })
      .catch(() => client.destroy());
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => res.destroy());
    const url = parseAbsoluteUrl(req.url ?? '');
    if (typeof url === 'string') {
      malformed(req.method ?? '?', req.url ?? '', url);
      req.resume();
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end(`parallel-cc egress proxy: ${url}\n`);
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 80);
    decide(opts.allowlist, host, port)
      .then((d) => {
        if (closed) return void res.destroy();
        if (!d.ok || !d.address) {
          log({ method: req.method ?? 'GET', host, port, allowed: false, reason: d.reason ?? 'denied', bytesUp: 0, bytesDown: 0 });
          req.resume();
          res.writeHead(403, { 'content-type': 'text/plain' }).end(`parallel-cc egress proxy: ${host}:${port} is not allowed (${d.reason ?? 'denied'})\n`);
          return;
        }
        const headers = { ...req.headers };
        delete headers['proxy-authorization'];
        delete headers['proxy-connection'];
        let up = 0;
        let down = 0;
        const out = httpRequest({ host: d.address, port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (upRes) => {
          upRes.on('error', () => res.destroy());
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.on('data', (c: Buffer) => (down += c.length));
          upRes.pipe(res);
          upRes.on('end', () => log({ method: req.method ?? 'GET', host, port, allowed: true, bytesUp: up, bytesDown: down }));
        });
        out.on('error', (e) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`parallel-cc egress proxy: upstream error: ${e.message}\n`);
        });
        req.on('data', (c: Buffer) => (up += c.length));
        req.pipe(out);
      })
      .catch(() => {
        // Anything unexpected (an upstream header Node refuses to forward): a 502, never a crash.
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('parallel-cc egress proxy: cannot forward this request\n');
      });
  };

  const server: Server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, onRequest);
  server.on('connect', onConnect);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code !== 'ECONNRESET') malformed('?', '', err.code ?? 'unparsable');
    answerClientError(err, socket);
  });
  const close = await listenUnix(server, opts.socketPath, () => {
    closed = true;
    sockets.forEach((s) => s.destroy());
  });
  return { socketPath: opts.socketPath, denied: () => deniedCount, close };
}
