/**
 * The broker's gated path when things go wrong: an agent that hangs up mid-answer (or before the
 * answer began) gives its fleet slot back at once and is billed for what was read, without waiting
 * for upstream; a throw inside the gate never becomes an unhandled rejection or exception and the
 * agent gets a clean error; a request Node refuses to send is the sandbox's 400, not an
 * "unreachable" 502; closing the broker never waits for a socket the sandbox keeps open.
 */
import { createServer, request, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApiBroker, type ApiBroker } from '../../src/core/net/api-broker.js';
import { Fleet, type BrokerGate, type FleetMember } from '../../src/core/net/fleet.js';
import { MemoryFleetStore, type Admission, type FleetLimits } from '../../src/core/net/fleet-limiter.js';
import { forwardGated } from '../../src/core/net/gated-forward.js';
import { tempDir } from '../helpers/git-repo.js';

const PH = 'placeholder-key';
const BOUND_MS = 15_000;

/** The in-memory store, counting leases in flight (what the limiter holds for requests not yet ended). */
class CountingStore extends MemoryFleetStore {
  inFlight = 0;
  override tryAcquire(now: number, limits: FleetLimits): Admission {
    const a = super.tryAcquire(now, limits);
    if (a.ok) this.inFlight += 1;
    return a;
  }
  override release(lease: string, now: number, tokens: number): void {
    this.inFlight -= 1;
    super.release(lease, now, tokens);
  }
}

/** Polls until `cond` holds (a generous bound: the machine may be loaded); fails with `what` after it. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`still not true after ${BOUND_MS} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A promise and its resolver, for waiting on an event. */
function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects after the bound: a guard so a regression fails instead of hanging the run. */
const within = <T>(what: string, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${BOUND_MS} ms`)), BOUND_MS).unref())]);

let upstream: Server;
let port = 0;
let answer: (req: IncomingMessage, res: ServerResponse) => void;
const brokers: ApiBroker[] = [];
const crashes: unknown[] = [];
const onCrash = (e: unknown): void => void crashes.push(e);

beforeEach(async () => {
  crashes.length = 0;
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as AddressInfo).port;
});
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  process.off('unhandledRejection', onCrash);
  process.off('uncaughtException', onCrash);
});

async function broker(gate: BrokerGate | ((m: FleetMember) => BrokerGate) = (m) => m): Promise<{ b: ApiBroker; store: CountingStore; member: FleetMember; fleet: Fleet }> {
  const store = new CountingStore();
  const fleet = new Fleet({ limits: { windowMs: 60_000 }, store });
  const member = fleet.join({ sessionId: 's', emit: () => undefined });
  const b = await startApiBroker({ socketPath: join(tempDir('pcc-gf-'), 'api.sock'), upstream: `http://127.0.0.1:${port}`, placeholder: PH, credential: { kind: 'api-key', value: 'real' }, gate: typeof gate === 'function' ? gate(member) : gate });
  brokers.push(b);
  return { b, store, member, fleet };
}

const BODY = JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
const messageStart = (input: number): string => `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', model: 'claude-sonnet-4-5', usage: { input_tokens: input, output_tokens: 1 } } })}\n\n`;

/** Opens a request to the broker; `onResponse` gets the response as soon as its head arrives. */
function open(socketPath: string, onResponse: (r: IncomingMessage, req: ClientRequest) => void = () => undefined): ClientRequest {
  const req = request({ socketPath, path: '/v1/messages', method: 'POST', headers: { 'x-api-key': PH, 'content-type': 'application/json' } }, (r) => onResponse(r, req));
  req.on('error', () => undefined);
  req.end(BODY);
  return req;
}

/** A whole answer from the broker (or what came before the connection went). */
function post(socketPath: string): Promise<{ status: number; body: string; error?: string }> {
  return within(
    'an answer',
    new Promise((resolve) => {
      const req = open(socketPath, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, error: 'aborted' }));
      });
      req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    }),
  );
}

/** Lets pending callbacks (a rejection's report comes after a turn of the loop) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the gated path when the agent hangs up', () => {
  it('mid-answer: the upstream request is destroyed, the slot is given back at once and what was read is billed', async () => {
    const upstreamGone = signal();
    answer = (_req, res) => {
      res.on('close', () => upstreamGone.resolve());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The rest of the answer never comes: the agent hangs up before it would.
      res.write(messageStart(500));
    };
    const { b, store, member } = await broker();
    const firstChunk = signal();
    open(b.socketPath, (res, req) =>
      res.once('data', () => {
        firstChunk.resolve();
        req.destroy();
      }),
    );
    await within('the first chunk', firstChunk.promise);
    await until('the slot is given back and the usage read so far is billed', () => store.inFlight === 0 && member.usage().inputTokens === 500);
    expect(member.metered()).toBe(true);
    await within('upstream seeing its request dropped', upstreamGone.promise);
    await settle();
    // Settled once: the upstream's own close afterwards neither bills again nor releases twice.
    expect(member.usage().inputTokens).toBe(500);
    expect(store.inFlight).toBe(0);
    expect(crashes).toEqual([]);
  });

  it('before the answer began: the upstream request is dropped and the slot is given back, nothing is billed or called unreachable', async () => {
    const arrived = signal();
    const upstreamGone = signal();
    answer = (_req, res) => {
      // Upstream takes its time; the agent does not wait.
      res.on('close', () => upstreamGone.resolve());
      arrived.resolve();
    };
    const { b, store, member } = await broker();
    const req = open(b.socketPath);
    await within('the request reaching upstream', arrived.promise);
    expect(store.inFlight).toBe(1);
    req.destroy();
    await until('the slot is given back', () => store.inFlight === 0);
    await within('upstream seeing its request dropped', upstreamGone.promise);
    expect(member.metered()).toBe(false);
    expect(b.unreachable()).toBeUndefined();
    expect(crashes).toEqual([]);
  });
});

describe('the gated path when the gate throws', () => {
  it('a throw before the head (refused): a 502 with a JSON body, the slot given back, no unhandled rejection', async () => {
    answer = (_req, res) => res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"type":"error","error":{"type":"rate_limit_error"}}');
    const { b, store } = await broker((m) => ({
      ...m,
      refused: () => {
        throw new Error('the gate broke');
      },
    }));
    const r = await post(b.socketPath);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toEqual({ type: 'error', error: { type: 'api_error', message: 'parallel-cc broker: internal error while forwarding this request (it was not retried)' } });
    expect(r.body).not.toContain('the gate broke');
    expect(store.inFlight).toBe(0);
    await settle();
    expect(crashes).toEqual([]);
  });

  it('a throw while admitting (a failing store): a 502 with a JSON body, no unhandled rejection', async () => {
    answer = () => expect.fail('nothing may reach upstream');
    const { b } = await broker((m) => ({ ...m, admit: () => Promise.reject(new Error('database is locked')) }));
    const r = await post(b.socketPath);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    await settle();
    expect(crashes).toEqual([]);
  });

  it('a throw when the answer is billed (after its head went out): the slot is still given back, nothing escapes', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(messageStart(700));
    };
    const billed = signal();
    const { b, store } = await broker((m) => ({
      ...m,
      answered: () => {
        billed.resolve();
        throw new Error('the gate broke');
      },
    }));
    open(b.socketPath, (res) => res.resume());
    await within('the answer being billed', billed.promise);
    await until('the slot is given back', () => store.inFlight === 0);
    await settle();
    expect(crashes).toEqual([]);
  });
});

/** Sends raw bytes to the broker and resolves with the first bytes it answers; the socket stays open. */
function raw(socketPath: string, bytes: string): Promise<{ text: string; socket: ReturnType<typeof connect> }> {
  return within(
    'a raw answer',
    new Promise((resolve) => {
      // Half-open allowed: a peer that never hangs up by itself, as a hostile sandbox may.
      const socket = connect({ path: socketPath, allowHalfOpen: true });
      socket.on('error', () => undefined);
      socket.once('data', (d: Buffer) => resolve({ text: d.toString('latin1'), socket }));
      socket.write(Buffer.from(bytes, 'latin1'));
    }),
  );
}

describe('requests the broker cannot forward, and its close', () => {
  it('a request Node refuses to send (a header it will not write) is the sandbox\'s 400, not an unreachable API', async () => {
    // Through the broker's own port: what `open` does when http.request throws on the agent's headers.
    const store = new CountingStore();
    const fleet = new Fleet({ limits: { windowMs: 60_000 }, store });
    const gate = fleet.join({ sessionId: 's', emit: () => undefined });
    const reachable: Array<string | undefined> = [];
    const refusing = createServer((req, res) => {
      void forwardGated({
        req,
        res,
        gate,
        path: '/v1/messages',
        open: () => {
          throw Object.assign(new TypeError('Invalid character in header content ["x-odd"]'), { code: 'ERR_INVALID_CHAR' });
        },
        apiError: (r, status, type, message) => r.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type, message } })),
        reachable: (why) => reachable.push(why),
        host: 'api.example.com',
      });
    });
    const socketPath = join(tempDir('pcc-gf-'), 'refusing.sock');
    await new Promise<void>((r) => refusing.listen(socketPath, r));
    try {
      const r = await post(socketPath);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'this request cannot be forwarded (a header or the path is not valid HTTP)' } });
      expect(reachable, 'an unsendable request says nothing about the API being reachable').toEqual([]);
      expect(store.inFlight).toBe(0);
      expect(gate.metered()).toBe(false);
    } finally {
      refusing.closeAllConnections();
      await new Promise<void>((r) => refusing.close(() => r()));
    }
  });

  it('close() does not wait for a socket the sandbox keeps open after a refused CONNECT', async () => {
    const { b } = await broker();
    const { text, socket } = await raw(b.socketPath, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 405 /);
    // The peer got its answer and its FIN but never hangs up: Node alone would wait for it forever.
    try {
      await within('the broker closing', b.close());
    } finally {
      socket.destroy();
    }
  });
});
