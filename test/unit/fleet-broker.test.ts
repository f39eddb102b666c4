/**
 * The broker as the fleet's gate: a request upstream refuses for load before any byte reached the
 * agent is sent again after the fleet-wide hold (within the retry budget); a streamed answer is
 * never replayed; every answer's usage is priced; a spent budget is refused before upstream.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApiBroker, type ApiBroker } from '../../src/core/net/api-broker.js';
import { Fleet, type ModelApiEvent } from '../../src/core/net/fleet.js';
import { estimateCost } from '../../src/core/pricing.js';
import { tempDir } from '../helpers/git-repo.js';

const PH = 'placeholder-key';
let upstream: Server;
let port = 0;
let hits = 0;
let answer: (n: number, req: IncomingMessage, res: ServerResponse) => void;

const sse = (res: ServerResponse, input: number, output: number, model = 'claude-sonnet-4-5'): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', model, usage: { input_tokens: input, output_tokens: 1 } } })}\n\n`);
  res.end(`event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', usage: { output_tokens: output } })}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`);
};

beforeEach(async () => {
  hits = 0;
  upstream = createServer((req, res) => {
    hits += 1;
    const n = hits;
    req.resume();
    req.on('end', () => answer(n, req, res));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as AddressInfo).port;
});
const brokers: ApiBroker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

async function broker(fleet: Fleet, sessionId: string, events: ModelApiEvent[], opts: { budgetUsd?: number; stops?: string[] } = {}): Promise<{ socketPath: string; member: ReturnType<Fleet['join']> }> {
  const member = fleet.join({ sessionId, emit: (e) => events.push(e), ...(opts.budgetUsd !== undefined ? { budgetUsd: opts.budgetUsd } : {}), onStop: (r) => opts.stops?.push(r) });
  const b = await startApiBroker({ socketPath: join(tempDir('pcc-fb-'), 'api.sock'), upstream: `http://127.0.0.1:${port}`, placeholder: PH, credential: { kind: 'api-key', value: 'real' }, gate: member });
  brokers.push(b);
  return { socketPath: b.socketPath, member };
}

function post(socketPath: string): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/v1/messages', method: 'POST', headers: { 'x-api-key': PH, 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body, error: e.message }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, error: 'aborted' }));
    });
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    req.end(JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }));
  });
}

describe('the broker behind the fleet gate', () => {
  it('retries a 429 before any output after the fleet-wide hold; every session is told; the cost is the answer\'s usage × price', async () => {
    answer = (n, _req, res) => (n <= 2 ? res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"rate_limit_error"}}') : sse(res, 1000, 200));
    const fleet = new Fleet({ limits: { windowMs: 60_000 }, maxRetries: 4 });
    const aEvents: ModelApiEvent[] = [];
    const bEvents: ModelApiEvent[] = [];
    const a = await broker(fleet, 'a', aEvents);
    await broker(fleet, 'b', bEvents);
    const r = await post(a.socketPath);
    expect(r.status).toBe(200);
    expect(r.body).toContain('message_stop');
    expect(r.body).not.toContain('rate_limit_error');
    expect(hits).toBe(3);
    for (const evs of [aEvents, bEvents]) expect(evs.filter((e) => e.state === 'rate_limited').map((e) => e.message)).toEqual([expect.stringMatching(/^rate limited by the model API \(429\); retry 1\/4; resuming in 1 s$/), expect.stringMatching(/retry 2\/4/)]);
    expect(a.member.costUsd()).toBe(Math.round(estimateCost('claude-sonnet-4-5', { inputTokens: 1000, outputTokens: 200 }) * 1e6) / 1e6);
    expect(a.member.usage()).toEqual({ inputTokens: 1000, outputTokens: 200, cacheReadTokens: 0, cacheCreationTokens: 0 });
    expect(fleet.batchCostUsd()).toBe(a.member.costUsd());
    fleet.close();
  });

  it('passes the refusal on once the retry budget is spent', async () => {
    answer = (_n, _req, res) => res.writeHead(529, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"overloaded_error"}}');
    const fleet = new Fleet({ limits: { windowMs: 60_000 }, maxRetries: 2 });
    const a = await broker(fleet, 'a', []);
    const r = await post(a.socketPath);
    expect(r.status).toBe(529);
    expect(r.body).toContain('overloaded_error');
    expect(hits).toBe(3);
    fleet.close();
  });

  it('never replays a streamed answer: an error after the first byte reaches the agent as it is', async () => {
    answer = (_n, _req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { model: 'claude-sonnet-4-5', usage: { input_tokens: 500, output_tokens: 1 } } })}\n\n`);
      setTimeout(() => res.destroy(), 50);
    };
    const fleet = new Fleet({ limits: { windowMs: 60_000 } });
    const a = await broker(fleet, 'a', []);
    const r = await post(a.socketPath);
    expect(r.status).toBe(200);
    expect(r.body).toContain('message_start');
    expect(r.error).toBeDefined();
    expect(hits).toBe(1);
    // What upstream reported before the cut is billed.
    expect(a.member.usage().inputTokens).toBe(500);
    fleet.close();
  });

  it('refuses with a final 400 before upstream once the session\'s budget is spent, and stops it', async () => {
    answer = (_n, _req, res) => sse(res, 100_000, 10);
    const fleet = new Fleet({ limits: { windowMs: 60_000 } });
    const stops: string[] = [];
    const events: ModelApiEvent[] = [];
    const a = await broker(fleet, 'a', events, { budgetUsd: 0.5, stops });
    expect((await post(a.socketPath)).status).toBe(200);
    expect(stops).toEqual([]);
    expect((await post(a.socketPath)).status).toBe(200);
    expect(stops).toEqual([expect.stringMatching(/^its cost \(\$0\.6003\) passed the budget of \$0\.5$/)]);
    const refused = await post(a.socketPath);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/^parallel-cc broker: its cost .* no more model requests are allowed/) as unknown } });
    expect(hits).toBe(2);
    expect(events.some((e) => e.state === 'budget_reached')).toBe(true);
    fleet.close();
  });

  it('a batch budget stops every session of the fleet, and refuses one that joins later', async () => {
    answer = (_n, _req, res) => sse(res, 100_000, 10);
    const fleet = new Fleet({ limits: { windowMs: 60_000 }, batchBudgetUsd: 0.5 });
    const sa: string[] = [];
    const sb: string[] = [];
    const sc: string[] = [];
    const a = await broker(fleet, 'a', [], { stops: sa });
    const b = await broker(fleet, 'b', [], { stops: sb });
    await post(a.socketPath);
    await post(b.socketPath);
    expect(fleet.batchStopped()).toMatch(/^the batch's cost \(\$0\.6003\) passed its --budget of \$0\.5$/);
    expect([sa.length, sb.length]).toEqual([1, 1]);
    expect((await post(a.socketPath)).status).toBe(400);
    await broker(fleet, 'c', [], { stops: sc });
    await new Promise((r) => setImmediate(r));
    expect(sc).toHaveLength(1);
    expect(hits).toBe(2);
    fleet.close();
  });
});
