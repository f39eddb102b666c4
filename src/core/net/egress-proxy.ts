import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lookup } from 'node:dns/promises';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenUnix } from './unix-server.js';
import { isPrivateAddress, type Allowlist } from './allowlist.js';

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
  /** Number of denied attempts so far. */
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
 * Starts the per-session egress proxy on a unix socket. It speaks HTTP CONNECT (for HTTPS) and plain
 * HTTP forward proxying, lets through only allowlisted hosts, and records every attempt (allowed or
 * not, with byte counts) through `record`.
 */
export async function startEgressProxy(opts: {
  socketPath: string;
  allowlist: Allowlist;
  record: (r: EgressRecord) => void;
  now?: () => Date;
}): Promise<EgressProxy> {
  const now = opts.now ?? (() => new Date());
  let deniedCount = 0;
  const sockets = new Set<Socket | Duplex>();
  const log = (r: Omit<EgressRecord, 'ts'>): void => {
    if (!r.allowed) deniedCount += 1;
    opts.record({ ts: now().toISOString(), ...r });
  };

  const onConnect = (req: IncomingMessage, client: Duplex, head: Buffer): void => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const host = (m[1] as string).replace(/^\[|\]$/g, '');
    const port = Number(m[2]);
    void decide(opts.allowlist, host, port).then((d) => {
      if (!d.ok || !d.address) {
        log({ method: 'CONNECT', host, port, allowed: false, reason: d.reason ?? 'denied', bytesUp: 0, bytesDown: 0 });
        const body = `parallel-cc egress proxy: ${host}:${port} is not allowed (${d.reason ?? 'denied'})\n`;
        client.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
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
    });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('only http:// URLs can be proxied without CONNECT');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('parallel-cc egress proxy: expected an absolute http:// URL\n');
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 80);
    void decide(opts.allowlist, host, port).then((d) => {
      if (!d.ok || !d.address) {
        log({ method: req.method ?? 'GET', host, port, allowed: false, reason: d.reason ?? 'denied', bytesUp: 0, bytesDown: 0 });
        res.writeHead(403, { 'content-type': 'text/plain' }).end(`parallel-cc egress proxy: ${host}:${port} is not allowed (${d.reason ?? 'denied'})\n`);
        return;
      }
      const headers = { ...req.headers };
      delete headers['proxy-authorization'];
      delete headers['proxy-connection'];
      let up = 0;
      let down = 0;
      const out = httpRequest({ host: d.address, port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (upRes) => {
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
    });
  };

  const server: Server = createServer(onRequest);
  server.on('connect', onConnect);
  const close = await listenUnix(server, opts.socketPath, () => sockets.forEach((s) => s.destroy()));
  return { socketPath: opts.socketPath, denied: () => deniedCount, close };
}
