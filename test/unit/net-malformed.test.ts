/**
 * The broker and the egress proxy face the sandbox: every malformed input (bad ports, wrong request
 * forms, huge heads, garbage bytes, requests after close) gets a 4xx, the server keeps serving, and
 * nothing reaches the process as an uncaught exception or unhandled rejection.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compileAllowlist } from '../../src/core/net/allowlist.js';
import { startApiBroker, type ApiBroker } from '../../src/core/net/api-broker.js';
import { startEgressProxy, type EgressProxy, type EgressRecord } from '../../src/core/net/egress-proxy.js';
import { tempDir } from '../helpers/git-repo.js';

/** Sends raw bytes to a unix socket; returns what was answered until the server closes, 300 ms of quiet after an answer, or `waitMs`. */
function raw(socketPath: string, bytes: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    let out = '';
    let quiet: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(quiet);
      s.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, waitMs);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      clearTimeout(quiet);
      quiet = setTimeout(done, 300);
    });
    s.on('error', done);
    s.on('close', done);
    s.write(bytes);
  });
}

const status = (resp: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(resp)?.[1] ?? 0);

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
let dir: string;
let target: Server;
let port: number;
beforeAll(async () => {
  target = createServer((req, res) => {
    req.resume();
    res.end(`target saw ${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  port = (target.address() as AddressInfo).port;
});
afterAll(async () => {
  target.closeAllConnections();
  await new Promise((r) => target.close(r));
});
beforeEach(() => {
  dir = tempDir('pcc-net-');
  unhandled = [];
  process.on('uncaughtException', onUnhandled);
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('uncaughtException', onUnhandled);
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
  expect(unhandled).toEqual([]);
});

const HUGE = `GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`;
const GARBAGE = Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x16, 0x03, 0x01, 0x0d, 0x0a, 0x0d, 0x0a]);

describe('egress proxy with malformed input', () => {
  let proxy: EgressProxy;
  const records: EgressRecord[] = [];
  beforeEach(async () => {
    records.length = 0;
    proxy = await startEgressProxy({ socketPath: join(dir, 'egress.sock'), allowlist: compileAllowlist([`127.0.0.1:${port}`]), record: (r) => records.push(r) });
  });
  afterEach(async () => proxy.close());

  const serves = async (): Promise<void> => {
    const ok = await raw(proxy.socketPath, `GET http://127.0.0.1:${port}/next HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(status(ok), ok).toBe(200);
    expect(ok).toContain('target saw GET /next');
  };

  it.each([
    ['CONNECT with port 99999', 400, 'CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n'],
    ['CONNECT with port 0', 400, 'CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['CONNECT without a port', 400, 'CONNECT 127.0.0.1 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['CONNECT with an absolute URI', 400, `CONNECT http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['CONNECT to a bad host name', 400, `CONNECT bad..host:${port} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['absolute URI with port 99999', 400, 'GET http://127.0.0.1:99999/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['absolute URI with port 0', 400, 'GET http://127.0.0.1:0/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['origin-form request', 400, 'GET /etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ['https:// absolute URI', 400, `GET https://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a 100 KB header', 431, HUGE],
    ['an unknown method', 400, `FROB http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['garbage bytes', 400, GARBAGE],
    ['a TLS ClientHello', 400, Buffer.from('1603010200010001fc0303', 'hex')],
  ])('%s gets %i and the proxy serves the next request', async (_name, code, bytes) => {
    const resp = await raw(proxy.socketPath, bytes);
    expect(status(resp), resp).toBe(code);
    await serves();
    expect(records.some((r) => !r.allowed && r.reason?.startsWith('bad request'))).toBe(true);
    expect(proxy.denied()).toBeGreaterThanOrEqual(1);
  });

  it('allows the listed host:port only, by CONNECT and plain HTTP', async () => {
    const other = compileAllowlist(['127.0.0.1']);
    const p2 = await startEgressProxy({ socketPath: join(dir, 'p2.sock'), allowlist: other, record: () => undefined });
    try {
      expect(status(await raw(p2.socketPath, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: x\r\n\r\n`))).toBe(403);
      expect(status(await raw(p2.socketPath, `GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\n\r\n`))).toBe(403);
      // The host is listed (for 443/80): a bad port is still a 400, never a socket error.
      expect(status(await raw(p2.socketPath, 'CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(400);
      expect(status(await raw(p2.socketPath, 'GET http://127.0.0.1:0/ HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(400);
    } finally {
      await p2.close();
    }
    const tunnel = await raw(proxy.socketPath, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: x\r\n\r\nGET /tunnelled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(tunnel).toMatch(/^HTTP\/1\.1 200 Connection Established[\s\S]*target saw GET \/tunnelled/);
  });

  it('a pipelined request after a refusal, and requests racing close(), raise nothing', async () => {
    const resp = await raw(proxy.socketPath, `GET http://example.invalid/ HTTP/1.1\r\nHost: x\r\n\r\nCONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: x\r\n\r\n${'\x00'.repeat(64)}`);
    // The refusal or, when the pipelined garbage is parsed first, a 400: a 4xx either way.
    expect([400, 403]).toContain(status(resp));
    const racing = [
      raw(proxy.socketPath, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: x\r\n\r\n`, 1000),
      raw(proxy.socketPath, `GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\n\r\n`, 1000),
    ];
    await proxy.close();
    await Promise.all(racing);
    expect(await raw(proxy.socketPath, 'GET http://127.0.0.1/ HTTP/1.1\r\n\r\n', 500)).toBe('');
    proxy = await startEgressProxy({ socketPath: join(dir, 'egress.sock'), allowlist: compileAllowlist([`127.0.0.1:${port}`]), record: () => undefined });
  });
});

describe('credential broker with malformed input', () => {
  let broker: ApiBroker;
  const KEY = 'sk-ant-pcc-placeholder';
  beforeEach(async () => {
    broker = await startApiBroker({ socketPath: join(dir, 'api.sock'), upstream: `http://127.0.0.1:${port}/base`, placeholder: KEY, credential: { kind: 'api-key', value: 'real' } });
  });
  afterEach(async () => broker.close());

  it.each([
    ['CONNECT with port 99999', 405, 'CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['CONNECT without a port', 405, 'CONNECT 127.0.0.1 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an absolute URI with a bad port', 400, `POST http://127.0.0.1:99999/v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Length: 0\r\n\r\n`],
    ['an absolute URI', 400, `GET http://evil.example/v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\n\r\n`],
    ['asterisk form', 400, `OPTIONS * HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\n\r\n`],
    ['a protocol-relative path', 400, `GET //evil.example/x HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\n\r\n`],
    ['an upgrade', 405, `GET /v1/messages HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nx-api-key: ${KEY}\r\n\r\n`],
    ['a 100 KB header', 431, HUGE.replace('http://127.0.0.1/', '/v1/messages')],
    ['an unknown method', 400, `FROB /v1/messages HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['garbage bytes', 400, GARBAGE],
  ])('%s gets %i and the broker serves the next request', async (_name, code, bytes) => {
    const resp = await raw(broker.socketPath, bytes);
    expect(status(resp), resp).toBe(code);
    const ok = await raw(broker.socketPath, `GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nConnection: close\r\n\r\n`);
    expect(status(ok), ok).toBe(200);
    expect(ok).toContain('target saw GET /base/v1/models');
  });

  it('requests racing close() raise nothing and later connections are refused', async () => {
    const racing = [
      raw(broker.socketPath, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Length: 100\r\n\r\n{"partial":`, 1000),
      raw(broker.socketPath, 'CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: x\r\n\r\n', 1000),
    ];
    await broker.close();
    await Promise.all(racing);
    expect(await raw(broker.socketPath, 'GET /v1/models HTTP/1.1\r\n\r\n', 500)).toBe('');
    broker = await startApiBroker({ socketPath: join(dir, 'api.sock'), upstream: `http://127.0.0.1:${port}/base`, placeholder: KEY, credential: { kind: 'api-key', value: 'real' } });
  });
});
