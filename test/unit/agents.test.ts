import { chmodSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeAgent } from '../../src/agents/claude/index.js';
import { claudeLaunch } from '../../src/agents/claude/claude.js';
import { commandAgent, locateCommand } from '../../src/agents/command/index.js';
import { shellWords } from '../../src/agents/command/words.js';
import { AGENT_NAMES, agentFor } from '../../src/agents/registry.js';
import { multiRequest } from '../../src/cli/commands/multi.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { locateAgent } from '../../src/core/agent-select.js';
import type { Context } from '../../src/core/context.js';
import type { SandboxProvider } from '../../src/providers/provider.js';
import { AppError } from '../../src/errors.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const errorOf = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
};

describe('shellWords (--agent-command, split once, never by a shell)', () => {
  it('splits on whitespace and honours quotes and escapes like sh, expanding nothing', () => {
    expect(shellWords('  prog  a\tb  ')).toEqual(['prog', 'a', 'b']);
    expect(shellWords(`prog 'two words' "d q \\" \\$x \\n" a\\ b '' ""`)).toEqual(['prog', 'two words', 'd q " $x \\n', 'a b', '', '']);
    expect(shellWords('prog $HOME ~ *.ts a;b | c')).toEqual(['prog', '$HOME', '~', '*.ts', 'a;b', '|', 'c']);
    expect(shellWords(`pre'fix'"ed"`)).toEqual(['prefixed']);
  });

  it('refuses an unterminated quote or a trailing backslash (usage, exit 2)', () => {
    for (const bad of [`prog 'open`, 'prog "open', 'prog x\\']) {
      const err = errorOf(() => shellWords(bad));
      expect(err.exitCode).toBe(2);
      expect(err.hint).toMatch(/never run by one/);
    }
  });
});

describe('the command agent', () => {
  it('launches [program, ...args] with the prompt on stdin and only the proxy env; lines are text events; the exit code decides', () => {
    const launch = commandAgent.launch({ agentPath: '/opt/bin/agent', args: ['-x', 'y z'], prompt: 'P\n', proxyUrl: 'http://127.0.0.1:1' });
    expect(launch.argv).toEqual(['/opt/bin/agent', '-x', 'y z']);
    expect(launch.stdin).toBe('P\n');
    expect(launch.env.HTTPS_PROXY).toBe('http://127.0.0.1:1');
    expect(Object.keys(launch.env).some((k) => /ANTHROPIC|API_KEY/.test(k))).toBe(false);
    expect(commandAgent.parser()('{"type":"result"}')).toEqual([{ type: 'text', text: '{"type":"result"}' }]);
    expect(commandAgent.parser()('   ')).toEqual([]);
    expect(commandAgent.stderrLine?.('oops')).toEqual([{ type: 'text', text: 'oops' }]);
    expect(commandAgent.reportsResult).toBe(false);
    expect(commandAgent.credential).toBeUndefined();
  });

  it('runs a system program by name, mounts a host file (relative to cwd), and says how to fix a missing one (exit 3)', () => {
    expect(locateCommand('sh -c "echo hi"', { pathEnv: '/nowhere:/usr/bin:/bin', cwd: '/' })).toEqual({ kind: 'sandbox', command: 'sh', args: ['-c', 'echo hi'] });
    const dir = tempDir();
    writeFiles(dir, { 'bin/agent.sh': '#!/bin/sh\n', 'bin/data.txt': 'not a program' });
    chmodSync(join(dir, 'bin/agent.sh'), 0o755);
    chmodSync(join(dir, 'bin/data.txt'), 0o755);
    expect(locateCommand('bin/agent.sh --go', { cwd: dir })).toEqual({ kind: 'binary', path: realpathSync(join(dir, 'bin/agent.sh')), args: ['--go'] });
    expect(locateCommand('agent.sh', { pathEnv: join(dir, 'bin'), cwd: '/' })).toMatchObject({ kind: 'binary' });
    const missing = errorOf(() => locateCommand('nope-pcc', { pathEnv: '/usr/bin', cwd: '/' }));
    expect(missing.exitCode).toBe(3);
    expect(missing.hint).toMatch(/--agent-command/);
    expect(errorOf(() => locateCommand('bin/data.txt', { cwd: dir })).message).toMatch(/neither a native executable nor a script/);
    expect(errorOf(() => locateCommand(undefined, { cwd: dir })).exitCode).toBe(2);
  });
});

describe('the claude agent behind the port', () => {
  it('launches exactly as before, with a sk-ant- placeholder and the Anthropic headers for the broker', () => {
    const opts = { agentPath: '/opt/bin/claude', prompt: 'p', credential: { kind: 'api-key' as const, value: 'k' }, apiUrl: 'http://127.0.0.1:2', proxyUrl: 'http://127.0.0.1:3' };
    expect(claudeAgent.launch(opts)).toEqual(claudeLaunch(opts));
    expect(claudeAgent.credential?.placeholder()).toMatch(/^sk-ant-pcc-[0-9a-f]{36}$/);
    expect(claudeAgent.credential?.headers({ kind: 'bearer', value: 't' })).toEqual({ authorization: 'Bearer t', 'anthropic-beta': 'oauth-2025-04-20' });
    expect(claudeAgent.credential?.upstream({ anthropicBaseUrl: 'https://x.test', openaiBaseUrl: 'https://o.test', geminiBaseUrl: 'https://g.test' })).toBe('https://x.test');
    expect(errorOf(() => claudeAgent.launch({ agentPath: 'claude', prompt: 'p' })).kind).toBe('internal');
  });
});

describe('agent selection', () => {
  it('lists the agents; an unknown name is a usage error; rows without an agent ran claude', () => {
    expect(AGENT_NAMES).toEqual(expect.arrayContaining(['claude', 'command']));
    expect(agentFor(null)).toBe(claudeAgent);
    expect(agentFor('command')).toBe(commandAgent);
    expect(errorOf(() => agentFor('codex-ish')).exitCode).toBe(2);
  });

  it('reads agentCli/agentCommand from env and flags (claude by default), and refuses an unknown agent', () => {
    const home = tempDir();
    expect(loadConfig({ home, env: {} }).config.agentCli).toBe('claude');
    const fromEnv = loadConfig({ home, env: { PARALLEL_CC_AGENT_CLI: 'command', PARALLEL_CC_AGENT_COMMAND: 'sh -c x' } }).config;
    expect([fromEnv.agentCli, fromEnv.agentCommand]).toEqual(['command', 'sh -c x']);
    expect(loadConfig({ home, env: { PARALLEL_CC_AGENT_CLI: 'command' }, flags: { agentCli: 'claude' } }).config.agentCli).toBe('claude');
    expect(() => loadConfig({ home, env: { PARALLEL_CC_AGENT_CLI: 'nope' } })).toThrow(/agentCli/);
  });

  it('--skip-agent-update and its old name --skip-claude-update both skip the update (--multi)', async () => {
    const repo = makeRepo();
    const ctx = { cwd: repo, env: {}, home: tempDir(), now: () => new Date() } as unknown as Context;
    for (const flag of [{ skipAgentUpdate: true }, { skipClaudeUpdate: true }]) {
      const { req } = await multiRequest({ task: ['a'], outputDir: join(tempDir(), 'out'), ...flag }, ctx);
      expect(req.skipAgentUpdate).toBe(true);
    }
    expect((await multiRequest({ task: ['a'], outputDir: join(tempDir(), 'out') }, ctx)).req.skipAgentUpdate).toBeUndefined();
  });
});

describe('locateAgent (before anything is created)', () => {
  const provider = (caps: Partial<SandboxProvider['capabilities']>): SandboxProvider =>
    ({ capabilities: { localFilesystem: false, egressControlled: false, survivesCli: true, resourceLimits: true, ...caps } }) as unknown as SandboxProvider;
  const config = (agentCommand: string): Config => ({ ...loadConfig({ home: tempDir(), env: {} }).config, agentCommand });
  const ctx = { env: { PATH: '/usr/bin:/bin' }, cwd: '/' };

  it('refuses the command agent where the provider enforces egress itself (no proxy: it would get an open network)', () => {
    const err = errorOf(() => locateAgent(commandAgent, provider({ agentInstalled: true }), config('sh -c true'), ctx));
    expect([err.exitCode, err.message]).toEqual([2, 'the agent command runs in local sandboxes only (its egress rules need parallel-cc\'s proxy)']);
    expect(locateAgent(commandAgent, provider({ localFilesystem: true, egressControlled: true }), config('sh -c true'), ctx)).toMatchObject({ kind: 'sandbox', command: 'sh' });
  });
});
