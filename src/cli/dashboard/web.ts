import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Context } from '../../core/context.js';
import { dashboardActions, drillDown } from '../../core/dashboard/drill.js';
import type { LiveDashboard } from '../../core/dashboard/live.js';
import { AppError, toAppError } from '../../errors.js';
import { PAGE_CSS, PAGE_JS, pageHtml } from './page.js';

/** A running web dashboard. */
export interface WebDashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

const HEADERS = {
  'content-security-policy': "default-src 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time token check (both sides hashed first, so their lengths never differ). */
export function tokenMatches(given: string | null | undefined, token: string): boolean {
  return typeof given === 'string' && timingSafeEqual(digest(given), digest(token));
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const json = (res: ServerResponse, status: number, v: unknown): void => send(res, status, 'application/json; charset=utf-8', JSON.stringify(v));

/**
 * Serves the dashboard on 127.0.0.1 only. A random token (32 bytes) is part of the URL printed once;
 * every request — page, script, API and the event stream — must carry it (401 otherwise), and the
 * Host header must name the loopback address (a DNS-rebinding page cannot borrow the tab's origin).
 */
export async function startWeb(live: LiveDashboard, ctx: Context, opts: { port?: number; downloadDir: string }): Promise<WebDashboard> {
  const token = randomBytes(32).toString('hex');
  const clients = new Set<ServerResponse>();
  let port = 0;
  const unsubscribe = live.subscribe((m) => {
    const frame = `data: ${JSON.stringify(m)}\n\n`;
    for (const c of clients) c.write(frame);
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 403, 'text/plain', 'forbidden host\n');
    if (!tokenMatches(u.searchParams.get('token'), token)) return send(res, 401, 'text/plain', 'a valid token is required (see the URL the dashboard printed)\n');
    const path = u.pathname;
    if (req.method === 'GET' && path === '/') return send(res, 200, 'text/html; charset=utf-8', pageHtml(token));
    if (req.method === 'GET' && path === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', PAGE_JS);
    if (req.method === 'GET' && path === '/app.css') return send(res, 200, 'text/css; charset=utf-8', PAGE_CSS);
    if (req.method === 'GET' && path === '/api/model') return json(res, 200, live.model());
    if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify(live.model())}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    const m = /^\/api\/session\/([0-9a-f]{4,8})(?:\/(kill|download|reattach|merge-preview))?$/.exec(path);
    if (!m) return send(res, 404, 'text/plain', 'not found\n');
    const [, id = '', verb] = m;
    if (verb === undefined && req.method === 'GET') return json(res, 200, await drillDown(live, id, ctx));
    if (verb === undefined || req.method !== 'POST') return send(res, 405, 'text/plain', 'method not allowed\n');
    const out =
      verb === 'kill'
        ? await dashboardActions.kill(ctx, id)
        : verb === 'download'
          ? await dashboardActions.download(ctx, id, resolve(opts.downloadDir, id))
          : verb === 'reattach'
            ? await dashboardActions.reattach(ctx, id)
            : await dashboardActions.mergePreview(ctx, live, id);
    return json(res, 200, out);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = toAppError(e);
      if (!res.headersSent) json(res, err.kind === 'not_found' ? 404 : err.kind === 'usage' ? 400 : 500, { error: err.message, hint: err.hint ?? null });
      else res.end();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new AppError('usage', `cannot listen on 127.0.0.1:${opts.port ?? 0}: ${e.message}`, { hint: 'Pick another --port, or leave it out for a free one.' })));
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: async () => {
      unsubscribe();
      for (const c of clients) c.end();
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
    },
  };
}
