import { resolve } from 'node:path';
import { AppError } from '../errors.js';
import { checkSshKey } from './net/ssh-agent.js';
import { credentialHeader } from './net/cred-forward.js';

/**
 * Private dependencies (`--npm-token`, `--github-token`, `--ssh-key`): what the session may fetch
 * with the user's credentials, which stay on the host (core/net/cred-forward.ts, net/ssh-agent.ts).
 * This module validates the flags before anything is created and says what the sandbox gets instead
 * of the secrets: an npmrc and git config pointing at local endpoints, an ssh config and socket.
 */

/** A session's private dependency sources, validated. */
export interface PrivateDeps {
  /** The npm registry (`--npm-registry`, default registry.npmjs.org) and its token. */
  npm?: { registry: string; token: string };
  /** GitHub (or PARALLEL_CC_GITHUB_URL: a GitHub Enterprise host, a test server) and the token for git fetches. */
  github?: { url: string; token: string };
  /** The private key held by the session's ssh-agent, and the one git host:port egress opens. */
  ssh?: { keyPath: string; host: string; port: number };
}

/** The flags this module reads. */
export interface PrivateDepFlags {
  npmToken?: string;
  npmRegistry?: string;
  /** A token, or `true` for a bare `--github-token` (read GITHUB_TOKEN). */
  githubToken?: string | boolean;
  sshKey?: string;
}

export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org/';
export const DEFAULT_GITHUB_URL = 'https://github.com';
export const DEFAULT_SSH_HOST = 'github.com:22';

function checkToken(flag: string, token: string): string {
  if (token === '' || token.length > 4096 || /[^\x21-\x7e]/.test(token)) throw new AppError('usage', `${flag}: the token is empty, too long or has spaces or control characters`, { hint: 'Pass the token itself (better through its environment variable, so it is not on the command line).' });
  return token;
}

function checkUpstream(what: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('usage', `${what} "${raw}" is not a URL`, { hint: 'Example: https://npm.example.com/' });
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw new AppError('usage', `${what} "${raw}" is not an http(s) URL`);
  if (url.username || url.password) throw new AppError('usage', `${what} must not carry credentials in the URL`, { hint: 'Give the token with its own flag; it is added on the host.' });
  if (url.search || url.hash) throw new AppError('usage', `${what} "${raw}" must not have a query or fragment`);
  return url.href;
}

/** Parses `host:port` (PARALLEL_CC_SSH_HOST, default github.com:22). */
export function parseSshHost(raw: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(raw);
  const port = Number(m?.[2] ?? 22);
  if (!m || port < 1 || port > 65535) throw new AppError('usage', `PARALLEL_CC_SSH_HOST "${raw}" is not host[:port]`, { hint: 'Example: github.com:22' });
  return { host: m[1] as string, port };
}

/** Validates the private-dependency flags (exit 2 on a bad value, before anything is created). */
export async function parsePrivateDeps(flags: PrivateDepFlags, env: NodeJS.ProcessEnv, cwd: string): Promise<PrivateDeps | undefined> {
  const out: PrivateDeps = {};
  const npmToken = flags.npmToken ?? env.PARALLEL_CC_NPM_TOKEN;
  if (flags.npmRegistry !== undefined && npmToken === undefined) throw new AppError('usage', '--npm-registry needs --npm-token (or PARALLEL_CC_NPM_TOKEN)', { hint: 'A registry without a token needs no forwarder: allow it with --allow-domain.' });
  if (npmToken !== undefined) out.npm = { token: checkToken('--npm-token', npmToken), registry: checkUpstream('--npm-registry', flags.npmRegistry ?? env.PARALLEL_CC_NPM_REGISTRY ?? DEFAULT_NPM_REGISTRY) };
  if (flags.githubToken !== undefined && flags.githubToken !== false) {
    const token = flags.githubToken === true ? env.GITHUB_TOKEN || undefined : flags.githubToken;
    if (token === undefined) throw new AppError('usage', '--github-token without a value reads GITHUB_TOKEN, which is not set', { hint: 'export GITHUB_TOKEN=… or pass --github-token <token>.' });
    out.github = { token: checkToken('--github-token', token), url: checkUpstream('PARALLEL_CC_GITHUB_URL', env.PARALLEL_CC_GITHUB_URL ?? DEFAULT_GITHUB_URL) };
  }
  if (flags.sshKey !== undefined) {
    const keyPath = resolve(cwd, flags.sshKey);
    await checkSshKey(keyPath);
    out.ssh = { keyPath, ...parseSshHost(env.PARALLEL_CC_SSH_HOST ?? DEFAULT_SSH_HOST) };
  }
  return out.npm || out.github || out.ssh ? out : undefined;
}

/** Every secret value of the deps, in every form parallel-cc handles it, for the redactor. */
export function privateDepSecrets(deps: PrivateDeps | undefined): string[] {
  const out: string[] = [];
  if (deps?.npm) out.push(deps.npm.token, credentialHeader('npm', deps.npm.token));
  if (deps?.github) out.push(deps.github.token, credentialHeader('git', deps.github.token).slice('Basic '.length));
  return out;
}

/** The allowlist entries the deps need: the git host's ssh port, only with --ssh-key. */
export function privateDepAllowlist(deps: PrivateDeps | undefined): string[] {
  return deps?.ssh ? [`${deps.ssh.host}:${deps.ssh.port}`] : [];
}
