/**
 * Redaction of credentials from everything parallel-cc writes: terminal output, NDJSON, session logs,
 * registry rows and error messages. Two layers: the exact values of the user's secrets (known from the
 * environment), and common token shapes, so a key that reached some text by another road is caught too.
 */

import { providerModules } from '../providers/registry.js';

/**
 * Environment variables whose values are secrets wherever they appear (each provider module adds
 * its own: see {@link secretEnvVars}). DAYTONA/CLOUDFLARE tokens are common vendor credentials a
 * user may have exported, like GitHub's.
 */
export const SECRET_ENV_VARS = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  // The codex and gemini agents' model keys.
  'OPENAI_API_KEY',
  'CODEX_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'DAYTONA_API_KEY',
  'CLOUDFLARE_API_TOKEN',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'PARALLEL_CC_WEBHOOK_SECRET',
  // --npm-token's variable (GITHUB_TOKEN, --github-token's, is above).
  'PARALLEL_CC_NPM_TOKEN',
] as const;

/** Every secret variable: the core's and those of the registered provider modules. */
export function secretEnvVars(): string[] {
  return [...new Set([...SECRET_ENV_VARS, ...providerModules().flatMap((m) => m.secrets?.env ?? [])])];
}

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

// Token shapes: Anthropic keys/tokens, bearer headers, API-key headers, GitHub/AWS/Slack keys (providers add theirs).
const TOKEN_SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/sk-ant-[A-Za-z0-9_-]{8,}/g, REDACTED],
  // OpenAI keys (sk-…, sk-proj-…) and Google API keys (AIza…).
  [/\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, REDACTED],
  [/\b(x-goog-api-key)(["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;}]{8,}/gi, `$1$2${REDACTED}`],
  [/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
  [/\b(authorization|x-api-key|api[_-]?key|auth[_-]?token)(["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;}]{8,}/gi, `$1$2${REDACTED}`],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  // npm automation/publish tokens.
  [/\bnpm_[A-Za-z0-9]{36}\b/g, REDACTED],
  [/\bAKIA[0-9A-Z]{16}\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
];

/** Replaces known secret values and token shapes in text and in JSON-like values. */
export class Redactor {
  private readonly secrets: string[];
  private readonly shapes: ReadonlyArray<readonly [RegExp, string]>;

  constructor(secrets: Iterable<string | undefined>) {
    this.shapes = [...TOKEN_SHAPES, ...providerModules().flatMap((m) => (m.secrets?.shapes ?? []).map((re) => [re, REDACTED] as const))];
    // Longest first, so a secret containing another is replaced whole; tiny values would redact noise.
    this.secrets = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 8))].sort((a, b) => b.length - a.length);
  }

  /** A redactor for the secrets in an environment. */
  static fromEnv(env: NodeJS.ProcessEnv, extra: Array<string | undefined> = []): Redactor {
    return new Redactor([...secretEnvVars().map((k) => env[k]), ...extra]);
  }

  /** Redacts one string. */
  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [re, to] of this.shapes) out = out.replace(re, to);
    return out;
  }

  /** Redacts every string inside a JSON-like value (returns a copy; non-strings kept). */
  value<T>(v: T): T {
    if (typeof v === 'string') return this.text(v) as T;
    if (Array.isArray(v)) return v.map((x: unknown) => this.value(x)) as T;
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, this.value(x)])) as T;
    }
    return v;
  }
}
