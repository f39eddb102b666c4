import { request, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { engineDialer, type Dialer } from './engine-dial.js';

/**
 * A small Docker Engine API client over node:http — without dockerode, whose import (grpc,
 * protobuf, ssh2, tar-fs) costs more start-up than the whole rest of `sandbox exec` (~130 ms idle,
 * ~350 ms on a loaded machine). It serves every call of the docker provider (the run's container,
 * its execs, the one-shot `sandbox exec`, `cleanup`/`reattach`), to the daemon DOCKER_HOST names
 * (engine-dial.ts: unix socket, tcp, tcp + TLS, ssh).
 */

/** An error answer of the daemon, with its message in dockerode's words (`(HTTP code N) - message`). */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(`(HTTP code ${statusCode}) - ${message}`);
  }
}

const readAll = (res: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (d: Buffer) => parts.push(d));
    res.on('end', () => resolve(Buffer.concat(parts)));
    res.on('error', reject);
  });

/** The daemon's words of an error answer: its JSON `message`, else the text as it is. */
function errorOf(status: number, body: Buffer): EngineError {
  const text = body.toString('utf8');
  let message = text.trim();
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') message = m;
  } catch {
    // not JSON: the text as it is
  }
  return new EngineError(status, message);
}

/** A query string of these parameters (objects as JSON, as the API wants its `filters`). */
export const query = (params: Record<string, string | number | boolean | object>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  return q.toString();
};

/** A minimal client of one daemon: JSON calls, raw answers, streamed answers and hijacked streams. */
export class Engine {
  private readonly dialer: Dialer;

  /** `target`: a unix socket path, or a dialer (engineDialer(env)). */
  constructor(target: string | Dialer) {
    this.dialer = typeof target === 'string' ? { socketPath: target, label: target } : target;
  }

  /** The engine of the daemon DOCKER_HOST names (throws an `environment` AppError when it is not understood). */
  static of(env: NodeJS.ProcessEnv): Engine {
    return new Engine(engineDialer(env));
  }

  private open(method: string, path: string, body: unknown, headers: Record<string, string> = {}): ClientRequest {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    // A connection of its own for each call (no keep-alive pool: hijacked streams take theirs over).
    // node:http uses createConnection only without an agent.
    const where: RequestOptions = 'socketPath' in this.dialer ? { socketPath: this.dialer.socketPath, agent: false } : { createConnection: this.dialer.connect };
    const req = request({ ...where, method, path, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) } });
    req.end(payload);
    return req;
  }

  /** One call's answer as it arrives (status checked: a 4xx/5xx rejects with {@link EngineError}). */
  private answer(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, body);
      req.on('error', reject);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status < 400) return resolve(res);
        void readAll(res).then((b) => reject(errorOf(status, b)), reject);
      });
    });
  }

  /** One call; resolves to its raw answer. */
  async raw(method: string, path: string, body?: unknown): Promise<Buffer> {
    return readAll(await this.answer(method, path, body));
  }

  /** One call; resolves to the parsed JSON answer (undefined when empty), rejects with {@link EngineError} on a 4xx/5xx. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const text = (await this.raw(method, path, body)).toString('utf8');
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  /**
   * A streamed answer of JSON lines (GET /events): `onLine` gets each; resolves once the daemon
   * answered, to the function that stops it.
   */
  async lines(path: string, onLine: (line: string) => void): Promise<() => void> {
    const res = await this.answer('GET', path);
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      const parts = (pending + d).split('\n');
      pending = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) onLine(p);
    });
    res.on('error', () => undefined);
    return () => res.destroy();
  }

  /** A call whose connection becomes the raw stream (attach, exec start); `end()` half-closes our side. */
  hijack(method: string, path: string, body?: unknown): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, body, { Connection: 'Upgrade', Upgrade: 'tcp' });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => void readAll(res).then((b) => reject(errorOf(res.statusCode ?? 0, b)), reject));
      req.on('error', reject);
    });
  }

  /** Attaches to a container's stdin/stdout/stderr (a raw, multiplexed stream; `end()` half-closes stdin). */
  attach(id: string): Promise<Duplex> {
    return this.hijack('POST', `/containers/${encodeURIComponent(id)}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
  }
}

/**
 * Splits docker's multiplexed stream (8-byte headers: stream 1 stdout / 2 stderr, 0, 0, 0, size32,
 * then the payload) into stdout and stderr chunks, whatever the chunking of the socket.
 */
export function demux(stream: Duplex, onChunk: (which: 'stdout' | 'stderr', data: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (d: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const which = pending[0] === 2 ? 'stderr' : 'stdout';
      if (size > 0) onChunk(which, pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  });
}
