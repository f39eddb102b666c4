/**
 * The Cloudflare wire module on its own: the SSE parser over every way a stream can be cut into
 * chunks, the 32 MiB refusal before anything is sent, bridge errors with status and code mapped to
 * what the user reads, and the module's pricing per instance type.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient, BridgeError, MAX_BODY_BYTES, parseSse } from '../../src/providers/cloudflare/bridge.js';
import { cloudflareError } from '../../src/providers/cloudflare/errors.js';
import { cloudflarePricing } from '../../src/providers/cloudflare/module.js';

async function events(chunks: string[]): Promise<Array<{ event: string; data: string }>> {
  const out: Array<{ event: string; data: string }> = [];
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) {
      await Promise.resolve(); // one chunk per turn, as a network stream delivers them
      yield new TextEncoder().encode(c);
    }
  }
  for await (const e of parseSse(body())) out.push(e);
  return out;
}

describe('parseSse', () => {
  const stream = 'event: stdout\ndata: aGk=\n\nevent: stderr\r\ndata: ZXJy\r\n\r\nevent: exit\ndata: {"exit_code":\ndata: 3}\n\n';
  const want = [
    { event: 'stdout', data: 'aGk=' },
    { event: 'stderr', data: 'ZXJy' },
    { event: 'exit', data: '{"exit_code":\n3}' },
  ];
  it('reads events whole, CRLF or LF, multi-line data joined with newlines', async () => {
    expect(await events([stream])).toEqual(want);
  });
  it('gives the same events however the bytes are split (every split point, and one byte at a time)', async () => {
    for (let i = 1; i < stream.length; i++) expect(await events([stream.slice(0, i), stream.slice(i)])).toEqual(want);
    expect(await events(stream.split(''))).toEqual(want);
  });
  it('ends a last event that has no blank line after it', async () => {
    expect(await events(['event: error\ndata: {"error":"x","code":"exec_error"}'])).toEqual([{ event: 'error', data: '{"error":"x","code":"exec_error"}' }]);
  });
});

describe('BridgeClient', () => {
  let server: http.Server;
  let url = '';
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.authorization ?? ''}`);
      if (req.url?.endsWith('/running')) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Unauthorized","code":"unauthorized"}');
      if (req.url?.includes('/file/')) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"File not found: /workspace/x","code":"workspace_read_not_found"}');
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses a body over 32 MiB before sending anything', async () => {
    const client = new BridgeClient(url, 'k', 5000);
    const before = seen.length;
    await expect(client.writeFile('abc', '/workspace/big', new Uint8Array(MAX_BODY_BYTES + 1))).rejects.toThrow(/at most 33554432 per request/);
    expect(seen.length).toBe(before);
  });

  it('sends the Bearer key, encodes file paths below /workspace, reads a 404 as no file', async () => {
    const client = new BridgeClient(url, 'secret', 5000);
    expect(await client.readFile('abc', '/workspace/.parallel-cc/a b#c')).toBeUndefined();
    expect(seen.at(-1)).toBe('GET /v1/sandbox/abc/file/workspace/.parallel-cc/a%20b%23c Bearer secret');
  });

  it('maps a 401 to the key hint and a 502 (not the bridge\'s JSON) to an outage, with status and code', async () => {
    const client = new BridgeClient(url, 'k', 5000);
    const auth = await client.running('abc').catch((e: unknown) => e as BridgeError);
    expect(auth).toMatchObject({ statusCode: 401, code: 'unauthorized' });
    const mapped = cloudflareError('checking', auth);
    expect(mapped.message).toBe('Cloudflare sandbox bridge rejected the API key while checking (HTTP 401)');
    expect(mapped.hint).toMatch(/wrangler secret put SANDBOX_API_KEY/);
    const outage = cloudflareError('creating the sandbox', await client.createSandbox().catch((e: unknown) => e));
    expect(outage.message).toBe('the Cloudflare sandbox bridge API failed while creating the sandbox (HTTP 502): <html>Bad gateway</html>');
    const down = cloudflareError('creating the sandbox', await new BridgeClient('http://127.0.0.1:1', 'k', 5000).createSandbox().catch((e: unknown) => e));
    expect(down.message).toMatch(/^cannot reach the Cloudflare sandbox bridge API while creating the sandbox/);
    expect(down.hint).toMatch(/CLOUDFLARE_SANDBOX_URL/);
  });
});

describe('cloudflarePricing', () => {
  it('prices an instance type at the list prices of vCPU, memory and disk per second', () => {
    expect(cloudflarePricing('standard-1')).toEqual({ usdPerHour: 0.074016, minimumSeconds: 0 });
    expect(cloudflarePricing('lite').usdPerHour).toBeCloseTo(3600 * (0.00002 / 16 + 0.25 * 0.0000025 + 2 * 0.00000007), 6);
  });
});
