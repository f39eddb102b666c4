import { AppError } from '../../errors.js';

const STATUS_PAGE = 'https://status.e2b.dev';

/** The SDK's error message without its long boilerplate and without a trailing stack. */
function clean(message: string): string {
  return message
    .replace(/: This error is likely due to sandbox timeout\..*$/s, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/**
 * Turns whatever the E2B SDK threw into an AppError that says what failed (`action`, e.g. "creating
 * the sandbox"), why (the HTTP status or the timeout) and what to do. No stack trace reaches the user.
 */
export function e2bError(action: string, e: unknown): AppError {
  if (e instanceof AppError) return e;
  const err = (e instanceof Error ? e : new Error(String(e))) as Error & { statusCode?: number };
  const status = err.statusCode ?? (/^(\d{3}):/.exec(err.message)?.[1] !== undefined ? Number(/^(\d{3}):/.exec(err.message)?.[1]) : undefined);
  const msg = clean(err.message);
  if (err.name === 'AuthenticationError' || status === 401 || status === 403) {
    return new AppError('environment', `E2B rejected the API key while ${action} (${status === 403 ? 'HTTP 403' : 'HTTP 401'})`, {
      cause: e,
      hint: 'Check E2B_API_KEY: copy a current key from https://e2b.dev/dashboard?tab=keys (it starts with e2b_).',
    });
  }
  if (err.name === 'RateLimitError' || status === 429) {
    return new AppError('environment', `E2B refused the request while ${action}: rate limit or sandbox quota reached (HTTP 429)`, {
      cause: e,
      hint: 'Wait a minute, lower --max-concurrent, or kill sandboxes you no longer need (parallel-cc status --sandbox-only).',
    });
  }
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || /timed? ?out|timeout|aborted/i.test(err.message)) {
    return new AppError('environment', `the E2B API did not answer in time while ${action}`, {
      cause: e,
      hint: `Check your network and ${STATUS_PAGE}, then retry; PARALLEL_CC_E2B_REQUEST_TIMEOUT sets how long to wait (seconds).`,
    });
  }
  // envd answers 507 when the sandbox's disk is full: no outage, the work does not fit.
  if (err.name === 'NotEnoughSpaceError' || status === 507) {
    return new AppError('environment', `the E2B sandbox's disk is full while ${action}: ${msg}`, {
      cause: e,
      hint: 'Upload less (exclude build output, data and dependencies in .e2bignore) or use a template with a larger disk (--e2b-template).',
    });
  }
  if (status !== undefined && status >= 500) {
    return new AppError('environment', `the E2B API failed while ${action} (HTTP ${status}): ${msg}`, { cause: e, hint: `E2B may be having an outage: see ${STATUS_PAGE}, then retry.` });
  }
  if (err.name === 'NotFoundError' || err.name === 'SandboxNotFoundError' || status === 404) {
    return new AppError('not_found', `E2B: not found while ${action}: ${msg}`, { cause: e, hint: 'The sandbox may have ended (its timeout passed) or the template name is wrong (--e2b-template).' });
  }
  if (/fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up/i.test(`${err.message} ${String((err.cause as Error | undefined)?.message)}`)) {
    return new AppError('environment', `cannot reach the E2B API while ${action}: ${msg}`, { cause: e, hint: 'Check your network (and E2B_API_URL / E2B_DOMAIN if you set them).' });
  }
  return new AppError('environment', `E2B failed while ${action}: ${msg}`, { cause: e });
}
