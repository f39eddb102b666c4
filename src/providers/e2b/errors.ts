import type { AppError } from '../../errors.js';
import { vendorError, type VendorErrors } from '../remote/errors.js';

/** What E2B's SDK errors mean and what to do about each (see remote/errors.ts). */
export const E2B_ERRORS: VendorErrors = {
  name: 'E2B',
  statusPage: 'https://status.e2b.dev',
  keyHint: 'Check E2B_API_KEY: copy a current key from https://e2b.dev/dashboard?tab=keys (it starts with e2b_).',
  requestTimeoutEnv: 'PARALLEL_CC_E2B_REQUEST_TIMEOUT',
  // envd answers 507 when the sandbox's disk is full.
  diskHint: 'Upload less (exclude build output, data and dependencies in .e2bignore) or use a template with a larger disk (--e2b-template).',
  notFoundHint: 'The sandbox may have ended (its timeout passed) or the template name is wrong (--e2b-template).',
  endpointEnv: ['E2B_API_URL', 'E2B_DOMAIN'],
  names: { auth: ['AuthenticationError'], rateLimit: ['RateLimitError'], diskFull: ['NotEnoughSpaceError'], notFound: ['NotFoundError', 'SandboxNotFoundError'] },
  boilerplate: [/: This error is likely due to sandbox timeout\..*$/s],
};

/**
 * Turns whatever the E2B SDK threw into an AppError that says what failed (`action`, e.g. "creating
 * the sandbox"), why (the HTTP status or the timeout) and what to do. No stack trace reaches the user.
 */
export function e2bError(action: string, e: unknown): AppError {
  return vendorError(E2B_ERRORS, action, e);
}
