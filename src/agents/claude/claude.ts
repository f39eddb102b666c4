import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { AppError } from '../../errors.js';
import type { AgentEvent, TokenUsage } from '../../core/events.js';
import type { Credential } from '../../core/net/api-broker.js';
import { roundUsd } from '../../core/pricing.js';
import type { AgentLaunch } from '../agent.js';
import { isObj, jsonObjectLine } from '../json-lines.js';
import { executable, isElf, isScript } from '../locate.js';

/** The claude binary of the local npm install (the platform package the wrapper package installs). */
function localInstall(): string | undefined {
  const require = createRequire(import.meta.url);
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  for (const spec of [`@anthropic-ai/claude-code-${process.platform}-${arch}/claude`, '@anthropic-ai/claude-code/bin/claude.exe']) {
    try {
      const p = require.resolve(spec);
      if (isElf(p)) return p;
    } catch {
      // not installed
    }
  }
  return undefined;
}

/**
 * Finds the Claude Code binary: PARALLEL_CC_CLAUDE_BIN (config `claudeBin`), then `claude` on PATH,
 * then the local npm install. It must be the self-contained native build (what npm installs since
 * 2.x and what the official installer puts on PATH), because only the binary is mounted into a sandbox.
 */
export function findClaudeBinary(opts: { configured?: string; pathEnv?: string }): string {
  const candidates: Array<{ path: string; from: string }> = [];
  if (opts.configured) candidates.push({ path: opts.configured, from: 'PARALLEL_CC_CLAUDE_BIN' });
  for (const dir of (opts.pathEnv ?? '').split(delimiter).filter(Boolean)) candidates.push({ path: join(dir, 'claude'), from: 'PATH' });
  const local = localInstall();
  if (local) candidates.push({ path: local, from: 'the local npm install' });
  for (const c of candidates) {
    if (!executable(c.path)) {
      if (c.from === 'PARALLEL_CC_CLAUDE_BIN') throw new AppError('environment', `PARALLEL_CC_CLAUDE_BIN=${c.path} is not an executable file`, { hint: 'Point it at the claude binary, or unset it.' });
      continue;
    }
    const real = realpathSync(c.path);
    if (isElf(real) || (c.from === 'PARALLEL_CC_CLAUDE_BIN' && isScript(real))) return real;
    if (c.from === 'PARALLEL_CC_CLAUDE_BIN') throw new AppError('environment', `${c.path} is not a native claude binary`, { hint: 'Install Claude Code 2.x (npm i -g @anthropic-ai/claude-code) and point PARALLEL_CC_CLAUDE_BIN at its binary.' });
  }
  throw new AppError('environment', 'cannot find the Claude Code binary', {
    hint: 'Install it with `npm i -g @anthropic-ai/claude-code`, or set PARALLEL_CC_CLAUDE_BIN to its path.',
  });
}

/**
 * How claude runs in a sandbox: print mode with stream-json events, permissions skipped (the sandbox
 * is the permission boundary), the prompt on stdin (byte-exact, never through a shell), the model API
 * through the credential broker with a placeholder key, everything else through the egress proxy.
 */
export function claudeLaunch(opts: {
  agentPath: string;
  prompt: string;
  /** The key the agent presents: a broker placeholder (local sandboxes) or the real one (cloud). */
  credential: Credential;
  apiUrl?: string;
  proxyUrl?: string;
  extraArgs?: string[];
}): AgentLaunch {
  const env: Record<string, string> = {
    ...(opts.credential.kind === 'api-key' ? { ANTHROPIC_API_KEY: opts.credential.value } : { ANTHROPIC_AUTH_TOKEN: opts.credential.value }),
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
  if (opts.apiUrl) env.ANTHROPIC_BASE_URL = opts.apiUrl;
  if (opts.proxyUrl) {
    for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) env[k] = opts.proxyUrl;
    env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  }
  return {
    argv: [opts.agentPath, '-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', ...(opts.extraArgs ?? [])],
    env,
    stdin: opts.prompt,
  };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b) => (isObj(b) && typeof b.text === 'string' ? b.text : '')).join('');
  return '';
}

function usageOf(u: unknown): TokenUsage | undefined {
  if (!isObj(u)) return undefined;
  return {
    inputTokens: num(u.input_tokens) ?? 0,
    outputTokens: num(u.output_tokens) ?? 0,
    cacheReadTokens: num(u.cache_read_input_tokens) ?? 0,
    cacheCreationTokens: num(u.cache_creation_input_tokens) ?? 0,
  };
}

/** Parses one line of `claude --output-format stream-json --verbose` into zero or more events. */
export function parseClaudeLine(line: string): AgentEvent[] {
  const msg = jsonObjectLine(line);
  if (Array.isArray(msg)) return msg;
  switch (msg.type) {
    case 'system':
      if (msg.subtype === 'api_retry') {
        const maxRetries = num(msg.max_retries);
        const delayMs = num(msg.retry_delay_ms);
        return [
          {
            type: 'api_retry',
            attempt: num(msg.attempt) ?? 0,
            ...(maxRetries !== undefined ? { maxRetries } : {}),
            ...(delayMs !== undefined ? { delayMs } : {}),
            status: num(msg.error_status) ?? null,
            ...(typeof msg.error === 'string' ? { error: msg.error } : {}),
          },
        ];
      }
      if (msg.subtype !== 'init') return [];
      return [
        {
          type: 'init',
          ...(typeof msg.model === 'string' ? { model: msg.model } : {}),
          ...(typeof msg.cwd === 'string' ? { cwd: msg.cwd } : {}),
          ...(typeof msg.session_id === 'string' ? { agentSessionId: msg.session_id } : {}),
          ...(Array.isArray(msg.tools) ? { tools: msg.tools.filter((t): t is string => typeof t === 'string') } : {}),
        },
      ];
    case 'assistant':
    case 'user': {
      const content = isObj(msg.message) ? msg.message.content : undefined;
      if (!Array.isArray(content)) return [];
      return content.flatMap((b): AgentEvent[] => {
        if (!isObj(b)) return [];
        if (b.type === 'text' && typeof b.text === 'string' && msg.type === 'assistant') return [{ type: 'text', text: b.text }];
        if (b.type === 'tool_use') return [{ type: 'tool_use', id: String(b.id), name: String(b.name), input: b.input }];
        if (b.type === 'tool_result')
          return [{ type: 'tool_result', toolUseId: String(b.tool_use_id), content: contentText(b.content), isError: b.is_error === true }];
        return [];
      });
    }
    case 'result': {
      const usage = usageOf(msg.usage);
      const cost = num(msg.total_cost_usd);
      const duration = num(msg.duration_ms);
      const turns = num(msg.num_turns);
      return [
        {
          type: 'result',
          isError: msg.is_error === true,
          ...(typeof msg.subtype === 'string' ? { subtype: msg.subtype } : {}),
          ...(typeof msg.result === 'string' ? { text: msg.result } : {}),
          ...(duration !== undefined ? { durationMs: duration } : {}),
          ...(turns !== undefined ? { numTurns: turns } : {}),
          ...(cost !== undefined ? { costUsd: roundUsd(cost) } : {}),
          ...(usage ? { usage } : {}),
        },
      ];
    }
    default:
      return [];
  }
}

/** The command that updates Claude Code inside a sandbox that brings its own (spec 000: `claude update`). */
export function claudeUpdateArgv(agentPath: string): string[] {
  return [agentPath, 'update'];
}

/**
 * Reads the outcome of `claude update`. It can exit non-zero when there is nothing to do ("already
 * at the latest version"), which counts as success (spec 000, "Claude update failed").
 */
export function claudeUpdateOutcome(exitCode: number | null, output: string): { ok: boolean; detail: string } {
  const last = output.trim().split('\n').filter(Boolean).slice(-2).join(' / ').slice(0, 300);
  if (exitCode === 0) return { ok: true, detail: last || 'updated' };
  if (/already (?:on|at|running) (?:the )?latest|up[- ]to[- ]date/i.test(output)) return { ok: true, detail: 'already at the latest version' };
  return { ok: false, detail: `exit code ${String(exitCode)}${last ? `: ${last}` : ''}` };
}
