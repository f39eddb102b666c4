import type { AppError } from '../../errors.js';
import { vendorError, type VendorErrors } from '../remote/errors.js';

/** What the bridge's failures mean and what to do about each (see remote/errors.ts). */
export const CLOUDFLARE_ERRORS: VendorErrors = {
  name: 'Cloudflare sandbox bridge',
  statusPage: 'https://www.cloudflarestatus.com',
  keyHint: 'Check SANDBOX_API_KEY: it must equal the bridge Worker\'s secret (`npx wrangler secret put SANDBOX_API_KEY` in deploy/cloudflare-bridge, then export the same value).',
  requestTimeoutEnv: 'PARALLEL_CC_CF_REQUEST_TIMEOUT',
  diskHint: 'Upload less, or deploy the bridge with a larger instance_type (deploy/cloudflare-bridge/wrangler.jsonc).',
  notFoundHint: 'The sandbox went to sleep or was destroyed: a Cloudflare container keeps no files once it stops.',
  endpointEnv: ['CLOUDFLARE_SANDBOX_URL'],
  names: { timeout: ['TimeoutError'] },
};

/**
 * Turns a bridge failure into an AppError that says what failed (`action`), why (the HTTP status,
 * the bridge's code, the network) and what to do. No stack trace reaches the user.
 */
export function cloudflareError(action: string, e: unknown): AppError {
  return vendorError(CLOUDFLARE_ERRORS, action, e);
}
