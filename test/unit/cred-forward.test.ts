/**
 * The credential forwarders (`--npm-token`, `--github-token`) against hostile requests: only the
 * configured upstream is reached, only with the methods and paths a fetch needs, the sandbox's own
 * Authorization never passes, the token is added on the host and never logged.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { refuseReason, startCredForwarder, type CredForwarder, type ForwardRecord } from '../../src/core/net/cred-forward.js';
import { tempDir } from '../helpers/git-repo.js';

const TOKEN = 'npm_tok3nSECRETvalue0123456789abcdefgh';
let upstream: Server | undefined;
let fwd: CredForwarder | undefined;
afterEach(async () => {
  await fwd?.close();
  await new Promise((r) => (upstream ? upstream.close(r) : r(undefined)));
  fwd = upstream = undefined;
});

async function setup(kind: 'npm' | 'git', base = '/'): Promise<{ seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: number }>; log: ForwardRecord[]; socket: string }> {
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: number }> = [];
  upstream = createServer((req, res) => {
    let body = 0;
    req.on('data', (d: Buffer) => (body += d.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'session=abc' }).end('ok');
    });
  });
  await new Promise<void>((r) => upstream?.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const log: ForwardRecord[] = [];
  const socket = join(tempDir('pcc-fwd-'), `${kind}.sock`);
  fwd = await startCredForwarder({ kind, socketPath: socket, upstream: `http://127.0.0.1:${port}${base}`, token: TOKEN, record: (r) => log.push(r) });
  return { seen, log, socket };
}

function send(socket: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw request line (what http.request would refuse to send). */
function raw(socket: string, text: string): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let out = '';
    c.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', () => resolve(out));
    c.on('error', () => resolve(out));
    c.end(text);
  });
}

describe('refuseReason', () => {
  it('lets npm read packuments and tarballs, nothing else', () => {
    expect(refuseReason('npm', 'GET', '/pkg', '')).toBeUndefined();
    expect(refuseReason('npm', 'GET', '/@scope%2fpkg', '')).toBeUndefined();
    expect(refuseReason('npm', 'GET', '/@scope/pkg/-/pkg-1.0.0.tgz', '')).toBeUndefined();
    expect(refuseReason('npm', 'PUT', '/pkg', '')).toMatch(/PUT is not allowed/);
    expect(refuseReason('npm', 'DELETE', '/pkg/-rev/1', '')).toMatch(/not allowed/);
    expect(refuseReason('npm', 'GET', '/-/whoami', '')).toMatch(/registry API/);
    expect(refuseReason('npm', 'GET', '/-/npm/v1/tokens', '')).toMatch(/registry API/);
    // Percent-encoded, for a registry that decodes before routing.
    expect(refuseReason('npm', 'GET', '/%2D/npm/v1/tokens', '')).toMatch(/registry API/);
    expect(refuseReason('npm', 'GET', '/%2d/whoami', '')).toMatch(/registry API/);
    expect(refuseReason('npm', 'GET', 'http://evil.example/pkg', '')).toMatch(/origin-form/);
    expect(refuseReason('npm', 'GET', '//evil.example/pkg', '')).toMatch(/origin-form/);
    expect(refuseReason('npm', 'GET', '/a/../../etc', '')).toMatch(/dot segments/);
    expect(refuseReason('npm', 'GET', '/a/%2e%2e/b', '')).toMatch(/dot segments/);
    expect(refuseReason('npm', 'GET', '/a\\b', '')).toMatch(/invalid characters/);
    expect(refuseReason('npm', 'GET', '/%zz', '')).toMatch(/percent-encoding/);
    // Below the registry's own path only.
    expect(refuseReason('npm', 'GET', '/api/npm/pkg', '/api/npm')).toBeUndefined();
    expect(refuseReason('npm', 'GET', '/other/pkg', '/api/npm')).toMatch(/outside \/api\/npm\//);
  });

  it('lets git fetch (upload-pack) and never push', () => {
    expect(refuseReason('git', 'GET', '/owner/repo.git/info/refs?service=git-upload-pack', '')).toBeUndefined();
    expect(refuseReason('git', 'POST', '/owner/repo/git-upload-pack', '')).toBeUndefined();
    expect(refuseReason('git', 'GET', '/owner/repo.git/info/refs?service=git-receive-pack', '')).toMatch(/no push/);
    expect(refuseReason('git', 'POST', '/owner/repo.git/git-receive-pack', '')).toMatch(/only git fetches/);
    expect(refuseReason('git', 'GET', '/owner/repo.git/HEAD', '')).toMatch(/only git fetches/);
    expect(refuseReason('git', 'GET', '/api/v3/user', '')).toMatch(/only git fetches/);
    expect(refuseReason('git', 'GET', '/owner/repo/git-upload-pack', '')).toMatch(/only POST/);
  });
});

describe('startCredForwarder', () => {
  it('adds the token on the host, drops the sandbox\'s own credentials and cookies, and logs without the token', async () => {
    const { seen, log, socket } = await setup('npm');
    const r = await send(socket, 'GET', '/pkg', { authorization: 'Bearer sandbox-made-up', cookie: 'a=b', host: 'evil.example', 'x-forwarded-host': 'evil.example' });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.headers.cookie).toBeUndefined();
    expect(seen[0]?.headers['x-forwarded-host']).toBeUndefined();
    expect(seen[0]?.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(log).toEqual([expect.objectContaining({ via: 'npm', method: 'GET', host: '127.0.0.1', path: '/pkg', allowed: true, status: 200 })]);
    expect(JSON.stringify(log)).not.toContain(TOKEN);
  });

  it('git: the token goes as Basic x-access-token; a push is refused before upstream sees it', async () => {
    const { seen, log, socket } = await setup('git');
    expect((await send(socket, 'GET', '/o/r.git/info/refs?service=git-upload-pack')).status).toBe(200);
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`);
    const push = await send(socket, 'POST', '/o/r.git/git-receive-pack', { 'content-type': 'application/x-git-receive-pack-request' }, 'x');
    expect(push.status).toBe(403);
    expect(seen).toHaveLength(1);
    expect(log.at(-1)).toMatchObject({ allowed: false, status: 403, path: '/o/r.git/git-receive-pack' });
  });

  it('refuses absolute-URL targets, CONNECT, and bodies over the limit; stays up', async () => {
    const { seen, socket } = await setup('git');
    expect(await raw(socket, 'GET http://evil.example/o/r/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: evil.example\r\n\r\n')).toMatch(/^HTTP\/1\.1 403/);
    expect(await raw(socket, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n')).toMatch(/^HTTP\/1\.1 405/);
    const big = await raw(socket, `POST /o/r/git-upload-pack HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 403[\s\S]*too large/);
    expect(seen).toHaveLength(0);
    expect((await send(socket, 'GET', '/o/r/info/refs?service=git-upload-pack')).status).toBe(200);
  });

  it('forwards only below the registry path, and is gone once closed', async () => {
    const { seen, socket } = await setup('npm', '/api/npm/');
    expect((await send(socket, 'GET', '/api/npm/pkg')).status).toBe(200);
    expect((await send(socket, 'GET', '/elsewhere/pkg')).status).toBe(403);
    expect(seen.map((s) => s.url)).toEqual(['/api/npm/pkg']);
    await fwd?.close();
    fwd = undefined;
    await expect(send(socket, 'GET', '/api/npm/pkg')).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });
});
