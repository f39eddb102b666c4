import { randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { Agent } from '../agent.js';
import { GEMINI_INSTALL, findGeminiPackage, geminiLaunch } from './gemini.js';
import { geminiParser } from './parse.js';

/**
 * Google's Gemini CLI: the host's npm package (a node bundle) mounted into local sandboxes and run
 * with the sandbox's node, stream-json events on stdout, the Gemini API behind the broker with an
 * `x-goog-api-key` (GEMINI_API_KEY stays on the host).
 */
export const geminiAgent: Agent = {
  name: 'gemini',
  label: 'gemini',
  mountName: 'gemini',
  installHint: GEMINI_INSTALL,
  versionArgs: ['--version'],
  locate: (opts) => findGeminiPackage({ ...(opts.geminiDir ? { configured: opts.geminiDir } : {}), ...(opts.pathEnv ? { pathEnv: opts.pathEnv } : {}) }),
  launch: geminiLaunch,
  parser: (opts) => geminiParser(opts?.model),
  reportsResult: true,
  model: (config) => config.geminiModel,
  credential: {
    upstream: (config) => config.geminiBaseUrl,
    placeholder: () => `AIzaPcc${randomBytes(16).toString('hex')}`,
    headers: (c): Record<string, string> => ({ 'x-goog-api-key': c.value }),
    resolve: (env) => {
      const key = env.GEMINI_API_KEY ?? env.GOOGLE_API_KEY;
      if (!key) throw new AppError('environment', 'no Gemini credentials found for gemini', { hint: 'Set GEMINI_API_KEY. It stays on this machine: local sandboxes only get a per-session placeholder.' });
      return { kind: 'api-key', value: key };
    },
    keyLabel: 'gemini credentials',
    urlEnv: 'GOOGLE_GEMINI_BASE_URL (config geminiBaseUrl)',
    keyEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  },
};
