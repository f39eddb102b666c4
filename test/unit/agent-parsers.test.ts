/**
 * The codex and gemini adapters: their parsers over lines recorded from the real binaries
 * (test/fixtures/agents/, recorded against a local server: a tool run and a refused key), their
 * launch (argv as data, own sandboxes off, the placeholder key), finding them, and their pricing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codexAgent } from '../../src/agents/codex/index.js';
import { findCodexBinary } from '../../src/agents/codex/codex.js';
import { codexParser } from '../../src/agents/codex/parse.js';
import { geminiAgent } from '../../src/agents/gemini/index.js';
import { findGeminiPackage, GEMINI_SETTINGS } from '../../src/agents/gemini/gemini.js';
import { geminiParser } from '../../src/agents/gemini/parse.js';
import type { AgentEvent } from '../../src/core/events.js';
import { estimateCost, priceOf } from '../../src/core/pricing.js';
import { retryVerdict, resultAuthFailure } from '../../src/core/api-errors.js';
import { AppError } from '../../src/errors.js';
import { tempDir } from '../helpers/git-repo.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/agents/', import.meta.url));
const parseAll = (parser: (l: string) => AgentEvent[], file: string): AgentEvent[] => readFileSync(join(FIXTURES, file), 'utf8').split('\n').flatMap(parser);

describe('codex exec --json lines', () => {
  it('maps a recorded run: init, a command and a file change as tool_use/tool_result, the message as text, the turn as the priced result', () => {
    const events = parseAll(codexParser('gpt-5.5'), 'codex-tools.jsonl');
    expect(events.map((e) => e.type)).toEqual(['init', 'tool_use', 'tool_result', 'tool_use', 'tool_result', 'text', 'result']);
    expect(events[0]).toMatchObject({ type: 'init', model: 'gpt-5.5', agentSessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
    expect(events[1]).toEqual({ type: 'tool_use', id: 'item_0', name: 'shell', input: { command: "/bin/bash -lc 'echo hi > x.txt && echo out'" } });
    expect(events[2]).toEqual({ type: 'tool_result', toolUseId: 'item_0', content: 'out\n', isError: false });
    expect(events[3]).toMatchObject({ type: 'tool_use', id: 'item_1', name: 'file_change' });
    expect(events[4]).toEqual({ type: 'tool_result', toolUseId: 'item_1', content: 'add /tmp/probe/ws2/notes.md', isError: false });
    expect(events[5]).toEqual({ type: 'text', text: 'done' });
    // OpenAI counts cached input inside input_tokens: ours keeps it apart.
    const usage = { inputTokens: 270, outputTokens: 60, cacheReadTokens: 30, cacheCreationTokens: 0 };
    expect(events[6]).toEqual({ type: 'result', isError: false, subtype: 'success', usage, costUsd: Math.round(estimateCost('gpt-5.5', usage) * 1e6) / 1e6 });
  });

  it('a failed command is an error result; an item that completes without starting still gets its tool_use', () => {
    const parse = codexParser();
    const line = '{"type":"item.completed","item":{"id":"item_9","type":"command_execution","command":"false","aggregated_output":"","exit_code":1,"status":"failed"}}';
    expect(parse(line)).toEqual([
      { type: 'tool_use', id: 'item_9', name: 'shell', input: { command: 'false' } },
      { type: 'tool_result', toolUseId: 'item_9', content: '', isError: true },
    ]);
    expect(parse('not json')).toEqual([{ type: 'raw', line: 'not json' }]);
  });

  it('a refused key: each reconnect is an api_retry with status 401 (so the run stops at the first), then the failed turn', () => {
    const events = parseAll(codexParser(), 'codex-401.jsonl');
    const retries = events.filter((e): e is Extract<AgentEvent, { type: 'api_retry' }> => e.type === 'api_retry');
    expect(retries.map((r) => [r.attempt, r.maxRetries, r.status])).toEqual([1, 2, 3, 4, 5].map((n) => [n, 5, 401]));
    expect(retryVerdict(retries[0] as Extract<AgentEvent, { type: 'api_retry' }>, 0, { keyEnv: ['OPENAI_API_KEY'] })).toEqual({ message: 'the model API rejected the key (401)', hint: expect.stringContaining('OPENAI_API_KEY') as unknown });
    expect(events.at(-1)).toMatchObject({ type: 'result', isError: true, text: expect.stringContaining('401 Unauthorized') as unknown });
  });

  it('a connection error retry has no status (counted towards "unreachable")', () => {
    const [ev] = codexParser()('{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion: Connection refused (os error 111))"}');
    expect(ev).toMatchObject({ type: 'api_retry', attempt: 2, maxRetries: 5, status: null });
  });
});

describe('gemini --output-format stream-json lines', () => {
  it('maps a recorded run: init, shell and write_file calls with results, the joined text deltas, the priced result', () => {
    const events = parseAll(geminiParser(), 'gemini-tools.jsonl');
    expect(events.map((e) => e.type)).toEqual(['init', 'tool_use', 'tool_result', 'tool_use', 'tool_result', 'text', 'result']);
    expect(events[0]).toMatchObject({ type: 'init', model: 'gemini-2.5-pro' });
    expect(events[1]).toMatchObject({ type: 'tool_use', name: 'run_shell_command', input: { command: 'echo hi > g.txt' } });
    expect(events[2]).toMatchObject({ type: 'tool_result', toolUseId: (events[1] as { id: string }).id, isError: false });
    expect(events[3]).toMatchObject({ type: 'tool_use', name: 'write_file', input: { file_path: 'notes.md', content: 'a ✓\r\nb\n' } });
    expect(events[5]).toEqual({ type: 'text', text: 'done' });
    const usage = { inputTokens: 270, outputTokens: 60, cacheReadTokens: 30, cacheCreationTokens: 0 };
    expect(events[6]).toEqual({ type: 'result', isError: false, subtype: 'success', durationMs: 255, usage, costUsd: Math.round(estimateCost('gemini-2.5-pro', usage) * 1e6) / 1e6 });
  });

  it('joins deltas into one text; a refused key is an error result the run names as a rejected key', () => {
    const parse = geminiParser();
    expect(parse('{"type":"message","role":"assistant","content":"hel","delta":true}')).toEqual([]);
    expect(parse('{"type":"message","role":"assistant","content":"lo","delta":true}')).toEqual([]);
    expect(parse('{"type":"tool_use","tool_name":"x","tool_id":"t1","parameters":{}}')).toEqual([{ type: 'text', text: 'hello' }, { type: 'tool_use', id: 't1', name: 'x', input: {} }]);
    const result = parseAll(geminiParser(), 'gemini-401.jsonl').at(-1) as Extract<AgentEvent, { type: 'result' }>;
    expect(result).toMatchObject({ type: 'result', isError: true, subtype: 'error' });
    expect(resultAuthFailure(result.text, { keyEnv: ['GEMINI_API_KEY'] })?.hint).toContain('GEMINI_API_KEY');
  });
});

describe('launching codex and gemini', () => {
  const opts = { agentPath: '/opt/parallel-cc/bin/codex', prompt: 'p ✓', credential: { kind: 'api-key' as const, value: 'sk-pcc-x' }, apiUrl: 'http://127.0.0.1:43127', proxyUrl: 'http://127.0.0.1:43128' };

  it('codex: exec --json, its own sandbox and approvals off, the broker as an HTTP-only model provider, the placeholder in OPENAI_API_KEY, the prompt on stdin', () => {
    const l = codexAgent.launch({ ...opts, model: 'gpt-5.5' });
    expect(l.argv).toEqual([
      '/opt/parallel-cc/bin/codex', 'exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox',
      '-c', 'model_providers.parallel-cc={name="parallel-cc",base_url="http://127.0.0.1:43127",env_key="OPENAI_API_KEY",wire_api="responses",supports_websockets=false}',
      '-c', 'model_provider="parallel-cc"', '-c', 'check_for_update_on_startup=false', '-c', 'analytics.enabled=false', '--disable', 'plugins', '-m', 'gpt-5.5', '-',
    ]);
    expect(l.env).toMatchObject({ OPENAI_API_KEY: 'sk-pcc-x', HTTPS_PROXY: opts.proxyUrl, NO_PROXY: '127.0.0.1,localhost' });
    expect(l.stdin).toBe('p ✓');
    expect(codexAgent.credential?.headers({ kind: 'api-key', value: 'k' })).toEqual({ authorization: 'Bearer k' });
    expect(codexAgent.credential?.placeholder()).toMatch(/^sk-pcc-[0-9a-f]{48}$/);
  });

  it('gemini: headless stream-json, yolo approvals, trusted workspace, no relaunch, the broker as GOOGLE_GEMINI_BASE_URL, and its settings file (API-key auth)', () => {
    const l = geminiAgent.launch({ ...opts, agentPath: '/opt/parallel-cc/pkg/gemini/bundle/gemini.js' });
    expect(l.argv).toEqual(['/opt/parallel-cc/pkg/gemini/bundle/gemini.js', '-p', '', '--output-format', 'stream-json', '--approval-mode', 'yolo']);
    expect(l.env).toMatchObject({ GEMINI_API_KEY: 'sk-pcc-x', GOOGLE_GEMINI_BASE_URL: opts.apiUrl, GEMINI_CLI_TRUST_WORKSPACE: 'true', GEMINI_CLI_NO_RELAUNCH: 'true' });
    expect(l.files).toEqual([{ path: '.gemini/settings.json', content: `${JSON.stringify(GEMINI_SETTINGS, null, 2)}\n` }]);
    expect(GEMINI_SETTINGS.security.auth.selectedType).toBe('gemini-api-key');
    expect(geminiAgent.credential?.headers({ kind: 'api-key', value: 'k' })).toEqual({ 'x-goog-api-key': 'k' });
  });

  it('each reads only its own key; a missing one is exit 3 naming the variable', () => {
    expect(codexAgent.credential?.resolve?.({ OPENAI_API_KEY: 'o', GEMINI_API_KEY: 'g' })).toEqual({ kind: 'api-key', value: 'o' });
    expect(geminiAgent.credential?.resolve?.({ OPENAI_API_KEY: 'o', GEMINI_API_KEY: 'g' })).toEqual({ kind: 'api-key', value: 'g' });
    for (const [agent, v] of [[codexAgent, 'OPENAI_API_KEY'], [geminiAgent, 'GEMINI_API_KEY']] as const) {
      let err: unknown;
      try {
        agent.credential?.resolve?.({ ANTHROPIC_API_KEY: 'a' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).exitCode).toBe(3);
      expect((err as AppError).hint).toContain(v);
    }
  });
});

describe('finding codex and gemini', () => {
  it('finds the installed codex native binary and the gemini package folder', () => {
    expect(findCodexBinary({})).toMatch(/\/vendor\/x86_64-unknown-linux-musl\/bin\/codex$/);
    expect(findGeminiPackage({})).toMatchObject({ kind: 'package', entry: 'bundle/gemini.js', dir: expect.stringMatching(/@google\/gemini-cli$/) as unknown });
  });

  it('nothing on PATH and no local install: exit 3 with how to install it; a bad configured path says which variable', () => {
    const nowhere = join(tempDir('pcc-no-agents-'), 'x.js');
    for (const find of [() => findCodexBinary({ pathEnv: '', self: nowhere }), () => findGeminiPackage({ pathEnv: '', self: nowhere })]) {
      let err: unknown;
      try {
        find();
      } catch (e) {
        err = e;
      }
      expect((err as AppError).exitCode).toBe(3);
      expect((err as AppError).hint).toMatch(/npm install -g @(openai\/codex|google\/gemini-cli)/);
    }
    expect(() => findCodexBinary({ configured: nowhere })).toThrow(/PARALLEL_CC_CODEX_BIN=.* is not an executable file/);
    expect(() => findGeminiPackage({ configured: nowhere })).toThrow(/PARALLEL_CC_GEMINI_DIR=.* is not the @google\/gemini-cli package folder/);
  });
});

describe('pricing per model family', () => {
  it('prices OpenAI and Gemini families by their own list prices, and an unknown model conservatively', () => {
    expect(priceOf('gpt-5.5')).toMatchObject({ input: 1.25, output: 10 });
    expect(priceOf('gpt-5-mini')).toMatchObject({ input: 0.25, output: 2 });
    expect(priceOf('gemini-2.5-pro')).toMatchObject({ input: 1.25, output: 10, cacheRead: 0.3125 });
    expect(priceOf('gemini-2.5-flash')).toMatchObject({ input: 0.3, output: 2.5 });
    expect(priceOf('gemini-2.5-flash-lite')).toMatchObject({ input: 0.1, output: 0.4 });
    expect(priceOf('claude-sonnet-4-5')).toMatchObject({ input: 3, output: 15 });
    expect(priceOf(undefined)).toMatchObject({ input: 5, output: 25 });
  });
});

describe('how the human renderer shows their tool calls', () => {
  it('names the command of a shell call and the paths of a codex file change', async () => {
    const { describeToolInput } = await import('../../src/cli/render.js');
    expect(describeToolInput('shell', { command: "/bin/bash -lc 'ls'" })).toBe("/bin/bash -lc 'ls'");
    expect(describeToolInput('file_change', { changes: [{ path: '/workspace/a.txt', kind: 'add' }, { path: '/workspace/b', kind: 'update' }] })).toBe('add /workspace/a.txt, update /workspace/b');
    expect(describeToolInput('write_file', { file_path: 'notes.md', content: 'x' })).toBe('notes.md');
  });
});

describe('each agent\'s API from the configuration', () => {
  it('reads OPENAI_BASE_URL, GOOGLE_GEMINI_BASE_URL and the model keys; the egress allowlist gets each agent\'s own API host', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const { modelApiEntry } = await import('../../src/core/net/session-net.js');
    const home = tempDir('pcc-cfg-');
    const defaults = loadConfig({ home, env: {} }).config;
    expect(modelApiEntry(codexAgent.credential?.upstream(defaults) ?? '')).toBe('api.openai.com:443');
    expect(modelApiEntry(geminiAgent.credential?.upstream(defaults) ?? '')).toBe('generativelanguage.googleapis.com:443');
    const config = loadConfig({ home, env: { OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1', GOOGLE_GEMINI_BASE_URL: 'https://gw.example:8443', PARALLEL_CC_CODEX_MODEL: 'gpt-5.5', PARALLEL_CC_GEMINI_MODEL: 'gemini-2.5-pro' } }).config;
    expect(codexAgent.credential?.upstream(config)).toBe('http://127.0.0.1:8080/v1');
    expect(modelApiEntry(geminiAgent.credential?.upstream(config) ?? '')).toBe('gw.example:8443');
    expect([codexAgent.model?.(config), geminiAgent.model?.(config)]).toEqual(['gpt-5.5', 'gemini-2.5-pro']);
  });
});
