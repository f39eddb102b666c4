import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { AgentCredentialNeeds } from '../agents/agent.js';
import type { Credential } from './net/api-broker.js';

/** How the model API is authenticated (spec 003 `--auth-method`). */
export const AUTH_METHODS = ['api-key', 'oauth'] as const;
/** An authentication method. */
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Parses --auth-method. */
export function parseAuthMethod(raw: string | undefined): AuthMethod | undefined {
  if (raw === undefined) return undefined;
  if ((AUTH_METHODS as readonly string[]).includes(raw)) return raw as AuthMethod;
  throw new AppError('usage', `unknown --auth-method "${raw}"`, { hint: `Use one of: ${AUTH_METHODS.join(', ')}.` });
}

interface ClaudeCredentialsFile {
  claudeAiOauth?: { accessToken?: string; expiresAt?: number };
}

/** The OAuth access token of the host's Claude Code login (~/.claude/.credentials.json), if any. */
async function hostOauthToken(home: string | undefined, now: Date): Promise<string | undefined> {
  if (!home) return undefined;
  const file = join(home, '.claude', '.credentials.json');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let parsed: ClaudeCredentialsFile;
  try {
    parsed = JSON.parse(text) as ClaudeCredentialsFile;
  } catch {
    throw new AppError('environment', `${file} is not valid JSON`, { hint: 'Log in again with `claude` (or /login) to rewrite it.' });
  }
  const oauth = parsed.claudeAiOauth;
  if (!oauth?.accessToken) return undefined;
  if (typeof oauth.expiresAt === 'number' && oauth.expiresAt <= now.getTime()) {
    throw new AppError('environment', 'the Claude login in ~/.claude/.credentials.json has expired', {
      hint: 'Run `claude` once on this machine to refresh it (parallel-cc never refreshes it, so parallel sandboxes cannot log you out).',
    });
  }
  return oauth.accessToken;
}

/**
 * Resolves the credential the host-side broker injects. It is read on the host only and never copied
 * into a local sandbox; with oauth the host's Claude login is used read-only, so N parallel sandboxes
 * cannot race a refresh token.
 */
export async function resolveCredential(env: NodeJS.ProcessEnv, method: AuthMethod | undefined, now: Date = new Date()): Promise<Credential> {
  const apiKey = env.ANTHROPIC_API_KEY;
  const token = env.CLAUDE_CODE_OAUTH_TOKEN ?? env.ANTHROPIC_AUTH_TOKEN;
  if (method === 'api-key' || (method === undefined && apiKey)) {
    if (apiKey) return { kind: 'api-key', value: apiKey };
    throw new AppError('environment', '--auth-method api-key needs ANTHROPIC_API_KEY', {
      hint: 'Export ANTHROPIC_API_KEY, or use --auth-method oauth with your Claude login. The key stays on this machine.',
    });
  }
  if (token) return { kind: 'bearer', value: token };
  const fromLogin = await hostOauthToken(env.HOME, now);
  if (fromLogin) return { kind: 'bearer', value: fromLogin };
  throw new AppError('environment', method === 'oauth' ? 'no Claude login found for --auth-method oauth' : 'no Anthropic credentials found', {
    hint:
      method === 'oauth'
        ? 'Log in with `claude` (creates ~/.claude/.credentials.json) or set CLAUDE_CODE_OAUTH_TOKEN.'
        : 'Set ANTHROPIC_API_KEY (or log in with `claude`). It stays on this machine: local sandboxes only get a per-session placeholder.',
  });
}

/**
 * The host's real key for an agent's model API: the agent's own variable (OPENAI_API_KEY,
 * GEMINI_API_KEY, …) where it names one, else the Anthropic credential ({@link resolveCredential}).
 */
export async function resolveAgentCredential(needs: Pick<AgentCredentialNeeds, 'resolve'>, env: NodeJS.ProcessEnv, method: AuthMethod | undefined, now: Date = new Date()): Promise<Credential> {
  return needs.resolve ? needs.resolve(env) : resolveCredential(env, method, now);
}
