import type { AgentEvent } from './events.js';

/** A model API failure that makes waiting pointless: the run stops with this message and hint. */
export interface ApiFailure {
  message: string;
  hint: string;
}

/**
 * Consecutive attempts that got no answer at all before the run gives up on an unreachable API.
 * Claude waits ~0.5, 1, 2, 4 s between them, so this is about 8 s of nothing but connection errors;
 * claude itself would go on for minutes (10 retries, up to ~40 s apart).
 */
export const UNREACHABLE_ATTEMPTS = 5;

const AUTH_HINT =
  'Check ANTHROPIC_API_KEY (or, with --auth-method oauth, your Claude login: run `claude` and /login); `parallel-cc doctor` makes one authenticated call to test it.';

/** Which key and base URL a hint names: the agent's own (codex: OPENAI_API_KEY, OPENAI_BASE_URL), default Anthropic's. */
export interface ApiHints {
  keyEnv?: readonly string[];
  urlEnv?: string;
}

/** The failure for an HTTP status that means the key itself is refused. */
export function authFailure(status: number, hints: ApiHints = {}): ApiFailure {
  const hint = hints.keyEnv?.length ? `Check ${hints.keyEnv.join(' or ')}; it is sent as is (the sandbox only ever sees a placeholder).` : AUTH_HINT;
  return { message: `the model API rejected the key (${status})`, hint };
}

/**
 * Decides, on one `api_retry` event, whether the run should stop now: the key is refused (401/403:
 * retrying never helps), or `streak` attempts in a row got no answer at all (status null: refused,
 * DNS, TLS — behind the credential broker, the broker's reason is in `error`).
 */
export function retryVerdict(ev: Extract<AgentEvent, { type: 'api_retry' }>, streak: number, hints: ApiHints = {}): ApiFailure | undefined {
  if (ev.status === 401 || ev.status === 403) return authFailure(ev.status, hints);
  if (ev.status === null && streak >= UNREACHABLE_ATTEMPTS) {
    const why = ev.error && ev.error !== 'unknown' ? ` (${ev.error})` : '';
    return {
      message: `the model API is unreachable${why}: ${streak} attempts in a row got no answer`,
      hint: `Check ${hints.urlEnv ?? 'ANTHROPIC_BASE_URL (config anthropicBaseUrl)'} and the network; \`parallel-cc doctor\` tests the connection.`,
    };
  }
  return undefined;
}

/**
 * Claude gives up at once on some auth errors (403) and reports them as the result text, gemini
 * on every one (`[API Error: … API key not valid …]`): name them.
 */
export function resultAuthFailure(text: string | undefined, hints: ApiHints = {}): ApiFailure | undefined {
  if (!/Failed to authenticate|Invalid API key|Incorrect API key|API key not valid|API Error: 40[13]/i.test(text ?? '')) return undefined;
  // Claude names the status after "API Error:", gemini quotes the API's error body ("code": 400).
  const m = /API Error: (40[013])|"code":\s*(40[013])/.exec(text ?? '');
  return authFailure(Number(m?.[1] ?? m?.[2] ?? 401), hints);
}
