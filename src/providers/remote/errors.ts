import { AppError } from '../../errors.js';

/** The SDK error names that mean each case (an HTTP status, where the SDK gives one, counts too). */
type Case = 'auth' | 'rateLimit' | 'timeout' | 'diskFull' | 'notFound';

/** What a vendor says in its errors: its name, where its status page is, how to fix each case. */
export interface VendorErrors {
  /** As the user knows it, e.g. "E2B". */
  name: string;
  /** The vendor's status page (outages). */
  statusPage: string;
  /** How to get a working API key (401/403). */
  keyHint: string;
  /** The env variable that sets how long one API request may take, if any (timeouts). */
  requestTimeoutEnv?: string;
  /** What to do when the sandbox's disk is full (507). */
  diskHint: string;
  /** What "not found" usually means (404). */
  notFoundHint: string;
  /** Env variables that point the SDK elsewhere (cannot reach the API). */
  endpointEnv?: readonly string[];
  /** SDK error class names per case, beyond the HTTP status. */
  names?: Partial<Record<Case, readonly string[]>>;
  /** Boilerplate the SDK appends to its messages, removed before the message reaches the user. */
  boilerplate?: readonly RegExp[];
}

/** The SDK's error message without its boilerplate, on one line, bounded. */
function clean(vendor: VendorErrors, message: string): string {
  let m = message;
  for (const re of vendor.boilerplate ?? []) m = m.replace(re, '');
  return m.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Marks an error a later attempt may not hit (429, 5xx, a timeout, an unreachable API): `workflow run --retries` retries these. */
const TRANSIENT = { transient: true } as const;

/** The HTTP status of an SDK error: its `statusCode`, else a `NNN:` prefix of its message. */
function statusOf(err: Error & { statusCode?: number }): number | undefined {
  if (err.statusCode !== undefined) return err.statusCode;
  const m = /^(\d{3}):/.exec(err.message)?.[1];
  return m !== undefined ? Number(m) : undefined;
}

/**
 * Turns whatever a vendor SDK threw into an AppError that says what failed (`action`, e.g.
 * "creating the sandbox"), why (the HTTP status, the timeout, the network) and what to do. No stack
 * trace reaches the user. An AppError passes through unchanged.
 */
export function vendorError(vendor: VendorErrors, action: string, e: unknown): AppError {
  if (e instanceof AppError) return e;
  const err = (e instanceof Error ? e : new Error(String(e))) as Error & { statusCode?: number };
  const status = statusOf(err);
  const msg = clean(vendor, err.message);
  const named = (c: Case): boolean => (vendor.names?.[c] ?? []).includes(err.name);
  const { name, statusPage } = vendor;
  if (named('auth') || status === 401 || status === 403) {
    return new AppError('environment', `${name} rejected the API key while ${action} (${status === 403 ? 'HTTP 403' : 'HTTP 401'})`, { cause: e, hint: vendor.keyHint });
  }
  if (named('rateLimit') || status === 429) {
    return new AppError('environment', `${name} refused the request while ${action}: rate limit or sandbox quota reached (HTTP 429)`, {
      cause: e,
      details: TRANSIENT,
      hint: 'Wait a minute, lower --max-concurrent, or kill sandboxes you no longer need (parallel-cc status --sandbox-only).',
    });
  }
  if (named('timeout') || err.name === 'TimeoutError' || err.name === 'AbortError' || /timed? ?out|timeout|aborted/i.test(err.message)) {
    const wait = vendor.requestTimeoutEnv ? `; ${vendor.requestTimeoutEnv} sets how long to wait (seconds)` : '';
    return new AppError('environment', `the ${name} API did not answer in time while ${action}`, { cause: e, details: TRANSIENT, hint: `Check your network and ${statusPage}, then retry${wait}.` });
  }
  // 507: the sandbox's disk is full. No outage: the work does not fit.
  if (named('diskFull') || status === 507) {
    return new AppError('environment', `the ${name} sandbox's disk is full while ${action}: ${msg}`, { cause: e, hint: vendor.diskHint });
  }
  if (status !== undefined && status >= 500) {
    return new AppError('environment', `the ${name} API failed while ${action} (HTTP ${status}): ${msg}`, { cause: e, details: TRANSIENT, hint: `${name} may be having an outage: see ${statusPage}, then retry.` });
  }
  if (named('notFound') || status === 404) {
    return new AppError('not_found', `${name}: not found while ${action}: ${msg}`, { cause: e, hint: vendor.notFoundHint });
  }
  if (/fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up/i.test(`${err.message} ${String((err.cause as Error | undefined)?.message)}`)) {
    const where = vendor.endpointEnv?.length ? ` (and ${vendor.endpointEnv.join(' / ')} if you set them)` : '';
    return new AppError('environment', `cannot reach the ${name} API while ${action}: ${msg}`, { cause: e, details: TRANSIENT, hint: `Check your network${where}.` });
  }
  return new AppError('environment', `${name} failed while ${action}: ${msg}`, { cause: e });
}
