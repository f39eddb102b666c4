/**
 * The wire to a deployed Cloudflare Sandbox bridge (`@cloudflare/sandbox/bridge` 0.x, HTTP + SSE):
 * every request parallel-cc makes to Cloudflare is built here, with plain `fetch`, so the protocol
 * change of 1.0 (0.x is supported until 2026-12-31) is one module to replace. The routes used:
 * `POST /v1/sandbox`, `DELETE /v1/sandbox/{id}`, `GET /v1/sandbox/{id}/running`,
 * `POST /v1/sandbox/{id}/exec` (SSE: `stdout`/`stderr` base64 chunks, then `exit {exit_code}` or
 * `error {error, code}`), `GET|PUT /v1/sandbox/{id}/file/{path}` (paths under /workspace, 32 MiB
 * per PUT), `POST|DELETE /v1/sandbox/{id}/session` (a session carries cwd and env vars) and
 * `GET /health`. Failures are {@link BridgeError}s carrying the HTTP status and the bridge's code.
 */

/** The most one PUT or hydrate may carry (the bridge answers 413/400 beyond it). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** The only folder the bridge's file routes and `cwd` accept. */
export const BRIDGE_ROOT = '/workspace';

/** A failed bridge call: HTTP status (undefined: no answer), the bridge's error code and message. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One event of an exec stream. */
export type ExecEvent = { type: 'stdout' | 'stderr'; data: Buffer } | { type: 'exit'; exitCode: number } | { type: 'error'; error: string; code: string };

/** What {@link BridgeClient.exec} sends. */
export interface ExecCall {
  argv: readonly string[];
  /** Under /workspace (the bridge refuses anything else with 403). */
  cwd?: string;
  /** Server-side bound: the container ends the command after it. */
  timeoutMs?: number;
  /** Runs in this session (its env vars and cwd). */
  sessionId?: string;
}

/**
 * Splits an SSE byte stream into events (`event:` + `data:` lines, a blank line ends one), as the
 * bridge writes them; a multi-line `data` is joined with newlines.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buf = '';
  let event = 'message';
  let data: string[] = [];
  const flush = function* (): Generator<{ event: string; data: string }> {
    if (data.length > 0) yield { event, data: data.join('\n') };
    event = 'message';
    data = [];
  };
  const lines = function* (text: string): Generator<{ event: string; data: string }> {
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') yield* flush();
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  };
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    const end = buf.lastIndexOf('\n');
    if (end < 0) continue;
    yield* lines(buf.slice(0, end));
    buf = buf.slice(end + 1);
  }
  yield* lines(buf + decoder.decode());
  yield* flush();
}

/** The HTTP client of one bridge (its URL and SANDBOX_API_KEY). */
export class BridgeClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    /** Bound of every call except a streamed exec's body (ms). */
    private readonly requestTimeoutMs: number,
  ) {}

  private url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  /** A file route: the path without its leading slash, each segment encoded. */
  private filePath(id: string, path: string): string {
    return `/v1/sandbox/${id}/file/${path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}`;
  }

  private async call(method: string, path: string, init: { body?: Uint8Array | string; type?: string; headers?: Record<string, string>; signal?: AbortSignal; stream?: boolean } = {}): Promise<Response> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, ...(init.stream ? [] : [timeout])]) : init.stream ? undefined : timeout;
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(init.type ? { 'content-type': init.type } : {}), ...init.headers },
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      const err = e as Error;
      throw new BridgeError(err.name === 'TimeoutError' ? `timed out after ${this.requestTimeoutMs} ms` : `${err.message}${err.cause ? `: ${(err.cause as Error).message}` : ''}`, undefined, err.name === 'TimeoutError' ? 'timeout' : undefined, { cause: e });
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let parsed: { error?: unknown; code?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // not the bridge's JSON (a proxy's page, Cloudflare's own error): the status says enough
    }
    const message = typeof parsed.error === 'string' ? parsed.error : text.replace(/\s+/g, ' ').trim().slice(0, 200) || res.statusText;
    throw new BridgeError(message, res.status, typeof parsed.code === 'string' ? parsed.code : undefined);
  }

  /** `GET /health`: whether the Worker is up and has its bindings (no key needed). */
  async health(): Promise<{ ok: boolean; errors: string[] }> {
    const res = await this.call('GET', '/health').catch((e: unknown) => {
      if (e instanceof BridgeError && e.statusCode === 503) return undefined;
      throw e;
    });
    if (!res) return { ok: false, errors: ['the bridge reports missing Durable Object bindings (HTTP 503)'] };
    const body = (await res.json()) as { ok?: boolean; errors?: string[] };
    return { ok: body.ok === true, errors: body.errors ?? [] };
  }

  /** A new sandbox id (no container starts until the first call that needs one). */
  async createSandbox(): Promise<string> {
    const body = (await (await this.call('POST', '/v1/sandbox')).json()) as { id?: unknown };
    if (typeof body.id !== 'string') throw new BridgeError('the bridge answered POST /v1/sandbox without an id');
    return body.id;
  }

  /** Destroys the sandbox's container (best-effort on the bridge's side; unknown ids are fine). */
  async deleteSandbox(id: string): Promise<void> {
    await this.call('DELETE', `/v1/sandbox/${id}`);
  }

  /** Whether its container answers (this also starts one, and counts as activity: the keep-alive). */
  async running(id: string): Promise<boolean> {
    return ((await (await this.call('GET', `/v1/sandbox/${id}/running`)).json()) as { running?: boolean }).running === true;
  }

  async createSession(id: string, opts: { cwd: string; env: Record<string, string> }): Promise<string> {
    const body = (await (await this.call('POST', `/v1/sandbox/${id}/session`, { body: JSON.stringify(opts), type: 'application/json' })).json()) as { id?: unknown };
    if (typeof body.id !== 'string') throw new BridgeError('the bridge created a session without an id');
    return body.id;
  }

  async deleteSession(id: string, sessionId: string): Promise<void> {
    await this.call('DELETE', `/v1/sandbox/${id}/session/${encodeURIComponent(sessionId)}`);
  }

  /** A file's bytes, or undefined when it does not exist. Text files arrive as the container decoded them (UTF-8). */
  async readFile(id: string, path: string): Promise<Buffer | undefined> {
    try {
      return Buffer.from(await (await this.call('GET', this.filePath(id, path))).arrayBuffer());
    } catch (e) {
      if (e instanceof BridgeError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  /** Writes one file (at most {@link MAX_BODY_BYTES}; parents are created). */
  async writeFile(id: string, path: string, data: Uint8Array): Promise<void> {
    if (data.length > MAX_BODY_BYTES) throw new BridgeError(`refusing to PUT ${data.length} bytes: the bridge takes at most ${MAX_BODY_BYTES} per request`);
    await this.call('PUT', this.filePath(id, path), { body: data, type: 'application/octet-stream' });
  }

  /** Starts a command; its events arrive as the bridge streams them. A 4xx/5xx before the stream throws. */
  async exec(id: string, call: ExecCall, signal?: AbortSignal): Promise<AsyncGenerator<ExecEvent>> {
    const res = await this.call('POST', `/v1/sandbox/${id}/exec`, {
      body: JSON.stringify({ argv: call.argv, ...(call.cwd ? { cwd: call.cwd } : {}), ...(call.timeoutMs ? { timeout_ms: call.timeoutMs } : {}) }),
      type: 'application/json',
      headers: call.sessionId ? { 'session-id': call.sessionId } : {},
      stream: true,
      ...(signal ? { signal } : {}),
    });
    const body = res.body;
    if (!body) throw new BridgeError('the bridge answered an exec without a body');
    return (async function* events(): AsyncGenerator<ExecEvent> {
      for await (const { event, data } of parseSse(body)) {
        if (event === 'stdout' || event === 'stderr') yield { type: event, data: Buffer.from(data, 'base64') };
        else if (event === 'exit') yield { type: 'exit', exitCode: Number((JSON.parse(data) as { exit_code?: unknown }).exit_code) };
        else if (event === 'error') {
          const e = JSON.parse(data) as { error?: unknown; code?: unknown };
          yield { type: 'error', error: typeof e.error === 'string' ? e.error : 'unknown error', code: typeof e.code === 'string' ? e.code : 'exec_error' };
        }
      }
    })();
  }
}
