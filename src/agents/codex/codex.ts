import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { AppError } from '../../errors.js';
import type { AgentLaunch, AgentLaunchOptions } from '../agent.js';
import { executable, isElf } from '../locate.js';

/** How to install codex (doctor's fix line, the hint of a missing binary). */
export const CODEX_INSTALL = 'npm install -g @openai/codex (its native binary comes in @openai/codex-<platform>), or set PARALLEL_CC_CODEX_BIN to the binary';

/** The Rust target triple of the platform package's vendor folder. */
function targetTriple(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return process.arch === 'x64' ? 'x86_64-unknown-linux-musl' : process.arch === 'arm64' ? 'aarch64-unknown-linux-musl' : undefined;
}

/**
 * The native binary beside an `@openai/codex` install: npm ships it as a platform package
 * (`@openai/codex-linux-x64`), resolved from `from` (the wrapper script, or this module for the local install).
 */
function platformBinary(from: string): string | undefined {
  const triple = targetTriple();
  if (!triple) return undefined;
  const pkg = `@openai/codex-linux-${process.arch === 'x64' ? 'x64' : 'arm64'}`;
  try {
    const dir = dirname(createRequire(from).resolve(`${pkg}/package.json`));
    const bin = join(dir, 'vendor', triple, 'bin', 'codex');
    return isElf(bin) ? realpathSync(bin) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the codex native binary: PARALLEL_CC_CODEX_BIN (config `codexBin`), then `codex` on PATH
 * (the binary, or the npm wrapper script whose platform package holds it), then the local npm
 * install. Only the self-contained binary is mounted into a sandbox (the wrapper needs node).
 */
export function findCodexBinary(opts: { configured?: string; pathEnv?: string; self?: string }): string {
  if (opts.configured) {
    if (!executable(opts.configured)) throw new AppError('environment', `PARALLEL_CC_CODEX_BIN=${opts.configured} is not an executable file`, { hint: `Point it at the codex binary, or unset it to use the installed one (${CODEX_INSTALL}).` });
    const real = realpathSync(opts.configured);
    if (!isElf(real)) throw new AppError('environment', `${opts.configured} is not a native codex binary`, { hint: `Point PARALLEL_CC_CODEX_BIN at the binary in @openai/codex-<platform>/vendor/<target>/bin/codex. ${CODEX_INSTALL}.` });
    return real;
  }
  for (const dir of (opts.pathEnv ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, 'codex');
    if (!executable(p)) continue;
    const real = realpathSync(p);
    if (isElf(real)) return real;
    const beside = platformBinary(real);
    if (beside) return beside;
  }
  const local = platformBinary(opts.self ?? import.meta.url);
  if (local) return local;
  throw new AppError('environment', 'cannot find the codex binary', { hint: `Install it: ${CODEX_INSTALL}.` });
}

/** The id of the model provider parallel-cc configures (its base URL is the broker). */
const PROVIDER_ID = 'parallel-cc';

/**
 * How codex runs in a sandbox: `codex exec --json` (JSONL events on stdout), the prompt on stdin
 * (`-`), codex's own sandbox and approvals off (ours is the boundary), and the Responses API through
 * a model provider of our own: its base URL is the broker (HTTP only; no WebSocket transport, which
 * the broker does not carry) and its key the placeholder in OPENAI_API_KEY.
 */
export function codexLaunch(opts: AgentLaunchOptions): AgentLaunch {
  if (!opts.credential) throw new AppError('internal', 'codex needs a model API credential to launch');
  const provider = ['name="parallel-cc"', ...(opts.apiUrl ? [`base_url=${JSON.stringify(opts.apiUrl)}`] : []), 'env_key="OPENAI_API_KEY"', 'wire_api="responses"', 'supports_websockets=false'];
  const env: Record<string, string> = { OPENAI_API_KEY: opts.credential.value };
  if (opts.proxyUrl) {
    for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) env[k] = opts.proxyUrl;
    env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  }
  return {
    argv: [
      opts.agentPath,
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      '-c',
      `model_providers.${PROVIDER_ID}={${provider.join(',')}}`,
      '-c',
      `model_provider="${PROVIDER_ID}"`,
      // No update checks, analytics or plugin syncs: they would only be egress denials.
      '-c',
      'check_for_update_on_startup=false',
      '-c',
      'analytics.enabled=false',
      '--disable',
      'plugins',
      ...(opts.model ? ['-m', opts.model] : []),
      ...(opts.args ?? []),
      '-',
    ],
    env,
    stdin: opts.prompt,
  };
}
