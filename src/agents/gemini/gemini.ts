import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { AppError } from '../../errors.js';
import type { AgentInstall, AgentLaunch, AgentLaunchOptions } from '../agent.js';
import { executable } from '../locate.js';

/** How to install gemini (doctor's fix line, the hint of a missing install). */
export const GEMINI_INSTALL = 'npm install -g @google/gemini-cli, or set PARALLEL_CC_GEMINI_DIR to its package folder';

/** The package's entry point (its `bin`), relative to the package folder. */
export const GEMINI_ENTRY = 'bundle/gemini.js';

/** True for a folder holding the @google/gemini-cli package with its bundle. */
function isGeminiPackage(dir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return pkg.name === '@google/gemini-cli' && existsSync(join(dir, GEMINI_ENTRY));
  } catch {
    return false;
  }
}

/**
 * Finds the gemini package folder: PARALLEL_CC_GEMINI_DIR (config `geminiDir`), then `gemini` on
 * PATH (npm's link to `bundle/gemini.js`), then the local npm install. It is a node bundle: a local
 * sandbox mounts the folder and runs it with the sandbox's node.
 */
export function findGeminiPackage(opts: { configured?: string; pathEnv?: string; self?: string }): Extract<AgentInstall, { kind: 'package' }> {
  const found = (dir: string): Extract<AgentInstall, { kind: 'package' }> => ({ kind: 'package', dir: realpathSync(dir), entry: GEMINI_ENTRY });
  if (opts.configured) {
    if (!isGeminiPackage(opts.configured)) throw new AppError('environment', `PARALLEL_CC_GEMINI_DIR=${opts.configured} is not the @google/gemini-cli package folder`, { hint: `Point it at the folder with its package.json and ${GEMINI_ENTRY}, or unset it to use the installed one (${GEMINI_INSTALL}).` });
    return found(opts.configured);
  }
  for (const dir of (opts.pathEnv ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, 'gemini');
    if (!executable(p)) continue;
    const pkg = dirname(dirname(realpathSync(p)));
    if (isGeminiPackage(pkg)) return found(pkg);
  }
  try {
    const pkg = dirname(createRequire(opts.self ?? import.meta.url).resolve('@google/gemini-cli/package.json'));
    if (isGeminiPackage(pkg)) return found(pkg);
  } catch {
    // not installed locally
  }
  throw new AppError('environment', 'cannot find the Gemini CLI', { hint: `Install it: ${GEMINI_INSTALL}.` });
}

/**
 * gemini's settings in the sandbox home. With GOOGLE_GEMINI_BASE_URL set, 0.61 picks its
 * "gateway" auth type, which its headless mode then refuses ("Invalid auth method selected"), so the
 * API-key type is chosen explicitly (the base URL still applies). Telemetry, usage statistics and
 * update checks are off: they would only be egress denials.
 */
export const GEMINI_SETTINGS = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
};

/**
 * How gemini runs in a sandbox: headless (`-p` with the prompt on stdin), stream-json events,
 * every tool approved (`--approval-mode yolo`: our sandbox is the boundary), the workspace trusted,
 * the Gemini API through the broker with the placeholder in GEMINI_API_KEY.
 */
export function geminiLaunch(opts: AgentLaunchOptions): AgentLaunch {
  if (!opts.credential) throw new AppError('internal', 'gemini needs a model API credential to launch');
  // No relaunch: gemini re-spawns itself with a bigger heap through process.execPath, which is the
  // loader where a sandbox runs the host's node through ld.so (docker); one process is enough here.
  const env: Record<string, string> = { GEMINI_API_KEY: opts.credential.value, GEMINI_CLI_TRUST_WORKSPACE: 'true', GEMINI_CLI_NO_RELAUNCH: 'true' };
  if (opts.apiUrl) env.GOOGLE_GEMINI_BASE_URL = opts.apiUrl;
  if (opts.proxyUrl) {
    for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) env[k] = opts.proxyUrl;
    env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  }
  return {
    argv: [opts.agentPath, '-p', '', '--output-format', 'stream-json', '--approval-mode', 'yolo', ...(opts.model ? ['-m', opts.model] : []), ...(opts.args ?? [])],
    env,
    stdin: opts.prompt,
    files: [{ path: '.gemini/settings.json', content: `${JSON.stringify(GEMINI_SETTINGS, null, 2)}\n` }],
  };
}
