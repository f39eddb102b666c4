import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The few Docker Engine API calls of the one-shot container, over the daemon's unix socket with
 * node:http — without dockerode, whose import (grpc, protobuf, ssh2, tar-fs) costs more start-up
 * than the whole rest of `sandbox exec` (~130 ms idle, ~350 ms on a loaded machine). Only a local
 * unix socket is spoken to (DOCKER_HOST=unix://…, else /var/run/docker.sock); any other DOCKER_HOST
 * leaves the one-shot path to dockerode (see {@link engineSocket}).
 */

/** The daemon's unix socket, or undefined when DOCKER_HOST names anything else (tcp, ssh…). */
export function engineSocket(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return '/var/run/docker.sock';
  return host.startsWith('unix://') ? host.slice(7) : undefined;
}

/** An error answer of the daemon, with its message in dockerode's words (`(HTTP code N) - message`). */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(`(HTTP code ${statusCode}) - ${message}`);
  }
}

const readAll = (res: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (d: Buffer) => parts.push(d));
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    res.on('error', reject);
  });

/** A minimal client of one daemon: JSON calls and the hijacked attach stream. */
export class Engine {
  constructor(private readonly socketPath: string) {}

  /** One call; resolves to the parsed JSON answer (undefined when empty), rejects with {@link EngineError} on a 4xx/5xx. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, agent: false, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      let message = text.trim();
      try {
        const m = (JSON.parse(text) as { message?: unknown }).message;
        if (typeof m === 'string') message = m;
      } catch {
        // not JSON: the text as it is
      }
      throw new EngineError(status, message);
    }
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  /** Attaches to a container's stdin/stdout/stderr (a raw, multiplexed stream; `end()` half-closes stdin). */
  attach(id: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath,
        agent: false,
        method: 'POST',
        path: `/containers/${encodeURIComponent(id)}/attach?stream=1&stdin=1&stdout=1&stderr=1`,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => void readAll(res).then((t) => reject(new EngineError(res.statusCode ?? 0, t.trim()))));
      req.on('error', reject);
      req.end();
    });
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
