import { randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { Agent } from '../agent.js';
import { CODEX_INSTALL, codexLaunch, findCodexBinary } from './codex.js';
import { codexParser } from './parse.js';

/**
 * OpenAI's Codex CLI: the host's native binary (npm's platform package) mounted into local
 * sandboxes, `codex exec --json` events on stdout, the Responses API behind the broker with a
 * Bearer key (OPENAI_API_KEY stays on the host).
 */
export const codexAgent: Agent = {
  name: 'codex',
  label: 'codex',
  mountName: 'codex',
  installHint: CODEX_INSTALL,
  versionArgs: ['--version'],
  locate: (opts) => ({ kind: 'binary', path: findCodexBinary({ ...(opts.codexBin ? { configured: opts.codexBin } : {}), ...(opts.pathEnv ? { pathEnv: opts.pathEnv } : {}) }) }),
  launch: codexLaunch,
  parser: (opts) => codexParser(opts?.model),
  reportsResult: true,
  model: (config) => config.codexModel,
  credential: {
    upstream: (config) => config.openaiBaseUrl,
    placeholder: () => `sk-pcc-${randomBytes(24).toString('hex')}`,
    headers: (c): Record<string, string> => ({ authorization: `Bearer ${c.value}` }),
    resolve: (env) => {
      const key = env.OPENAI_API_KEY ?? env.CODEX_API_KEY;
      if (!key) throw new AppError('environment', 'no OpenAI credentials found for codex', { hint: 'Set OPENAI_API_KEY. It stays on this machine: local sandboxes only get a per-session placeholder.' });
      return { kind: 'api-key', value: key };
    },
    keyLabel: 'openai credentials',
    urlEnv: 'OPENAI_BASE_URL (config openaiBaseUrl)',
    keyEnv: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  },
};
