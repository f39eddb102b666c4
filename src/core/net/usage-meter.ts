import type { TokenUsage } from '../events.js';

/** The usage of one model response as the upstream reported it. */
export interface MeteredUsage {
  /** The model the upstream says answered (else the one the request asked for). */
  model: string | undefined;
  usage: Required<TokenUsage>;
}

/** Largest non-streamed body the tap keeps to read its usage (a JSON answer is small; an SSE stream is read as it passes). */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/**
 * Reads the usage out of a model API response as its bytes pass through the broker, without
 * changing them: Anthropic Messages (`message_start` then `message_delta`, whose counts are
 * cumulative, or a non-streamed `message`), OpenAI Responses (`response.completed` or a
 * non-streamed `response`: `input_tokens` include the cached ones) and Gemini (`usageMetadata` of
 * each chunk, the last one wins). Chunks may split anywhere, even inside a UTF-8 character.
 */
export class UsageTap {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly sse: boolean;
  private line = '';
  private data: string[] = [];
  private json: Buffer[] = [];
  private jsonBytes = 0;
  private model: string | undefined;
  private usage: Required<TokenUsage> | undefined;

  constructor(contentType: string | undefined, private readonly requestModel?: string) {
    this.sse = /text\/event-stream/i.test(contentType ?? '');
    this.model = requestModel;
  }

  /** Feeds a chunk of the response body. */
  push(chunk: Buffer): void {
    if (!this.sse) {
      if (this.jsonBytes + chunk.length <= MAX_JSON_BYTES) this.json.push(chunk);
      this.jsonBytes += chunk.length;
      return;
    }
    this.lines(this.decoder.decode(chunk, { stream: true }));
  }

  /** Ends the body; returns the response's usage, undefined when it reported none. */
  end(): MeteredUsage | undefined {
    if (this.sse) {
      this.lines(`${this.decoder.decode()}\n\n`);
    } else if (this.jsonBytes <= MAX_JSON_BYTES && this.jsonBytes > 0) {
      try {
        this.read(JSON.parse(Buffer.concat(this.json).toString('utf8')));
      } catch {
        // Not JSON (an HTML error page): no usage.
      }
    }
    return this.current();
  }

  /** The usage seen so far. */
  current(): MeteredUsage | undefined {
    return this.usage ? { model: this.model, usage: { ...this.usage } } : undefined;
  }

  private lines(text: string): void {
    const parts = (this.line + text).split('\n');
    this.line = parts.pop() ?? '';
    for (const raw of parts) {
      const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (l === '') {
        if (this.data.length) {
          const payload = this.data.join('\n');
          this.data = [];
          try {
            this.read(JSON.parse(payload));
          } catch {
            // `[DONE]` or a non-JSON event.
          }
        }
      } else if (l.startsWith('data:')) this.data.push(l.slice(l.startsWith('data: ') ? 6 : 5));
    }
  }

  private set(model: unknown, patch: Partial<TokenUsage>): void {
    if (typeof model === 'string' && model !== '') this.model = model;
    const u = this.usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
    for (const [k, v] of Object.entries(patch) as Array<[keyof TokenUsage, number | undefined]>) if (v !== undefined) u[k] = v;
    this.usage = u;
  }

  /** One event (or the whole non-streamed body). */
  private read(v: unknown): void {
    const o = obj(v);
    if (!o) return;
    // Anthropic.
    if (o.type === 'message_start') {
      const m = obj(o.message);
      const u = obj(m?.usage);
      if (u) this.set(m?.model, anthropic(u));
      return;
    }
    if (o.type === 'message_delta' || (o.type === 'message' && obj(o.usage))) {
      const u = obj(o.usage);
      if (u) this.set(o.model, anthropic(u));
      return;
    }
    // OpenAI Responses: the final event carries the response with its usage.
    if (typeof o.type === 'string' && /^response\.(completed|incomplete|failed)$/.test(o.type)) {
      const r = obj(o.response);
      const u = obj(r?.usage);
      if (u) this.set(r?.model, openai(u));
      return;
    }
    if (o.object === 'response' && obj(o.usage)) {
      this.set(o.model, openai(obj(o.usage) ?? {}));
      return;
    }
    // Gemini: every chunk may carry the running usageMetadata.
    const g = obj(o.usageMetadata);
    if (g) this.set(o.modelVersion, gemini(g));
  }
}

function anthropic(u: Record<string, unknown>): Partial<TokenUsage> {
  const p: Partial<TokenUsage> = {};
  const set = (k: keyof TokenUsage, v: unknown): void => {
    const n = num(v);
    if (n !== undefined) p[k] = n;
  };
  set('inputTokens', u.input_tokens);
  set('outputTokens', u.output_tokens);
  set('cacheReadTokens', u.cache_read_input_tokens);
  set('cacheCreationTokens', u.cache_creation_input_tokens);
  return p;
}

function openai(u: Record<string, unknown>): Partial<TokenUsage> {
  const input = num(u.input_tokens) ?? 0;
  const cached = Math.min(input, num(obj(u.input_tokens_details)?.cached_tokens) ?? 0);
  return { inputTokens: input - cached, cacheReadTokens: cached, outputTokens: num(u.output_tokens) ?? 0 };
}

function gemini(u: Record<string, unknown>): Partial<TokenUsage> {
  const prompt = num(u.promptTokenCount) ?? 0;
  const cached = Math.min(prompt, num(u.cachedContentTokenCount) ?? 0);
  return { inputTokens: prompt - cached, cacheReadTokens: cached, outputTokens: (num(u.candidatesTokenCount) ?? 0) + (num(u.thoughtsTokenCount) ?? 0) };
}

/** The model a request asks for: the JSON body's `model`, else Gemini's `/models/{model}:` path segment. */
export function requestModel(path: string, body: Buffer | undefined): string | undefined {
  const fromPath = /\/models\/([^/:]+):/.exec(path)?.[1];
  if (fromPath) {
    // The path is the sandbox's: a malformed escape (%zz) is kept as it came, never thrown.
    try {
      return decodeURIComponent(fromPath);
    } catch {
      return fromPath;
    }
  }
  if (!body || body.length === 0 || body.length > MAX_JSON_BYTES) return undefined;
  try {
    const m = obj(JSON.parse(body.toString('utf8')))?.model;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
