import type { AppError } from '../../errors.js';
import { vendorError, type VendorErrors } from '../remote/errors.js';

/** What Daytona's SDK errors mean and what to do about each (see remote/errors.ts). */
export const DAYTONA_ERRORS: VendorErrors = {
  name: 'Daytona',
  statusPage: 'https://status.daytona.io',
  keyHint: 'Check DAYTONA_API_KEY: create a key at https://app.daytona.io/dashboard/keys (it starts with dtn_).',
  requestTimeoutEnv: 'PARALLEL_CC_DAYTONA_REQUEST_TIMEOUT',
  diskHint: 'Upload less (exclude build output, data and dependencies in .e2bignore) or give the sandbox a larger disk (providers.daytona.disk).',
  notFoundHint: 'The sandbox may have been deleted (auto-delete after it stopped) or the snapshot name is wrong (--daytona-snapshot).',
  endpointEnv: ['DAYTONA_API_URL'],
  names: {
    auth: ['DaytonaAuthenticationError', 'DaytonaAuthorizationError', 'DaytonaForbiddenError'],
    rateLimit: ['DaytonaRateLimitError'],
    timeout: ['DaytonaTimeoutError', 'DaytonaConnectionTimeoutError'],
    notFound: ['DaytonaNotFoundError'],
  },
};

/**
 * Turns whatever the Daytona SDK threw into an AppError that says what failed (`action`), why (the
 * HTTP status or the timeout) and what to do. No stack trace reaches the user.
 */
export function daytonaError(action: string, e: unknown): AppError {
  return vendorError(DAYTONA_ERRORS, action, e);
}
