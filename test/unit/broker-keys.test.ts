/**
 * The credential broker per agent: it takes the placeholder wherever the agent's API carries a key
 * (x-api-key, Authorization Bearer, x-goog-api-key, ?key=), refuses any other key, and forwards with
 * exactly the agent's own header carrying the real key — no placeholder, no `key` parameter left.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codexAgent } from '../../src/agents/codex/index.js';
import { geminiAgent } from '../../src/agents/gemini/index.js';
import { claudeAgent } from '../../src/agents/claude/index.js';
import { startApiBroker } from '../../src/core/net/api-broker.js';
import { tempDir } from '../helpers/git-repo.js';

let upstream: Server;
let port = 0;
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as AddressInfo).port;
});
afterAll(async () => new Promise<void>((r) => upstream.close(() => r())));

/** One request through the broker's socket. */
function send(socketPath: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { ...headers, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

const REAL = 'real-key-never-in-a-sandbox';
const PH = 'placeholder-of-this-session';

const CASES: Array<{ agent: typeof codexAgent; base: string; path: string; present: Record<string, string>; expectHeader: [string, string] }> = [
  { agent: codexAgent, base: '/v1', path: '/responses', present: { authorization: `Bearer ${PH}` }, expectHeader: ['authorization', `Bearer ${REAL}`] },
  { agent: geminiAgent, base: '', path: '/v1beta/models/m:streamGenerateContent?alt=sse', present: { 'x-goog-api-key': PH }, expectHeader: ['x-goog-api-key', REAL] },
  { agent: geminiAgent, base: '', path: `/v1beta/models/m:generateContent?key=${PH}&alt=sse`, present: {}, expectHeader: ['x-goog-api-key', REAL] },
  { agent: claudeAgent, base: '', path: '/v1/messages', present: { 'x-api-key': PH }, expectHeader: ['x-api-key', REAL] },
];

describe.each(CASES)('the broker for $agent.name ($path)', ({ agent, base, path, present, expectHeader }) => {
  it('forwards with the agent\'s own header carrying the real key and nothing of the placeholder', async () => {
    const credential = { kind: 'api-key' as const, value: REAL };
    const broker = await startApiBroker({ socketPath: join(tempDir('pcc-bk-'), 'api.sock'), upstream: `http://127.0.0.1:${port}${base}`, placeholder: PH, credential, headers: agent.credential?.headers(credential) ?? {} });
    try {
      seen.length = 0;
      expect(await send(broker.socketPath, path, present)).toBe(200);
      const [got] = seen;
      const [name, value] = expectHeader;
      expect(got?.headers[name]).toBe(value);
      expect(JSON.stringify(got)).not.toContain(PH);
      expect(got?.url).toBe(`${base}${path.replace(/[?&]key=[^&]*/, (m) => (m.startsWith('?') ? '?' : '')).replace('?&', '?')}`);
      // The other key headers never pass: only the agent's own is set.
      for (const other of ['x-api-key', 'authorization', 'x-goog-api-key'].filter((h) => h !== name)) expect(got?.headers[other]).toBeUndefined();
      // Any other key (in any of the places), or none, is refused before anything is forwarded.
      for (const bad of <Array<Record<string, string>>>[{ 'x-goog-api-key': 'guess' }, { authorization: 'Bearer guess' }, { 'x-api-key': 'guess' }, {}, { ...present, 'x-api-key': 'guess' }]) {
        expect(await send(broker.socketPath, path.replace(PH, 'guess'), bad)).toBe(401);
      }
      expect(seen).toHaveLength(1);
      expect(broker.rejected()).toBe(5);
    } finally {
      await broker.close();
    }
  });
});
