/**
 * Redaction of credentials from everything parallel-cc writes: terminal output, NDJSON, session logs,
 * registry rows and error messages. Two layers: the exact values of the user's secrets (known from the
 * environment), and common token shapes, so a key that reached some text by another road is caught too.
 */

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV_VARS = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'E2B_API_KEY',
  'DAYTONA_API_KEY',
  'CLOUDFLARE_API_TOKEN',
  'GITHUB_TOKEN',
  'GH_TOKEN',
] as const;

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

// Token shapes: Anthropic keys/tokens, bearer headers, API-key headers, E2B/GitHub/AWS/Slack keys.
const TOKEN_SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/sk-ant-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
  [/\b(authorization|x-api-key|api[_-]?key|auth[_-]?token)(["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;}]{8,}/gi, `$1$2${REDACTED}`],
  [/\be2b_[A-Za-z0-9]{16,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  [/\bAKIA[0-9A-Z]{16}\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
];

/** Replaces known secret values and token shapes in text and in JSON-like values. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string | undefined>) {
    // Longest first, so a secret containing another is replaced whole; tiny values would redact noise.
    this.secrets = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 8))].sort((a, b) => b.length - a.length);
  }

  /** A redactor for the secrets in an environment. */
  static fromEnv(env: NodeJS.ProcessEnv, extra: Array<string | undefined> = []): Redactor {
    return new Redactor([...SECRET_ENV_VARS.map((k) => env[k]), ...extra]);
  }

  /** Redacts one string. */
  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [re, to] of TOKEN_SHAPES) out = out.replace(re, to);
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
