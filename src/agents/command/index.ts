import { realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../../errors.js';
import type { Agent, AgentInstall } from '../agent.js';
import { executable, isElf, isScript } from '../locate.js';
import { shellWords } from './words.js';

/** Host folders every sandbox has read-only: a program there runs as the sandbox's own, nothing is mounted. */
const SYSTEM_DIRS = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib64/'];

const notFound = (program: string, why: string): AppError =>
  new AppError('environment', `cannot find the agent command ${JSON.stringify(program)}: ${why}`, {
    hint: 'Install the program (or give its path) and pass it as --agent-command "<program> <args>" (PARALLEL_CC_AGENT_COMMAND).',
  });

/** Where the command's program comes from: a system program by name, else the host file mounted into the sandbox. */
export function locateCommand(line: string | undefined, opts: { pathEnv?: string; cwd: string }): AgentInstall {
  if (line === undefined || line.trim() === '') {
    throw new AppError('usage', '--agent-cli command needs the command to run', { hint: 'Pass --agent-command "<program> <args>" (config agentCommand, PARALLEL_CC_AGENT_COMMAND).' });
  }
  const [program = '', ...args] = shellWords(line);
  const candidates = program.includes('/') ? [resolve(opts.cwd, program)] : (opts.pathEnv ?? '').split(delimiter).filter((d) => isAbsolute(d)).map((d) => join(d, program));
  const found = candidates.find((p) => executable(p));
  if (!found) throw notFound(program, program.includes('/') ? 'no executable file there' : 'not on PATH');
  const real = realpathSync(found);
  if (SYSTEM_DIRS.some((d) => real.startsWith(d))) return { kind: 'sandbox', command: program.includes('/') ? found : program, args };
  if (!isElf(real) && !isScript(real)) throw notFound(program, `${real} is neither a native executable nor a script with a #! line`);
  return { kind: 'binary', path: real, args };
}

/**
 * Any program: `--agent-cli command --agent-command "<argv>"`. The prompt goes to its stdin, each
 * stdout/stderr line is a text event, its exit code is the outcome (0 = completed). It gets the
 * egress proxy but no model credential: nothing of the user's keys is resolved or brokered for it.
 */
export const commandAgent: Agent = {
  name: 'command',
  label: 'the agent command',
  mountName: 'agent',
  installHint: 'Pass --agent-command "<program> <args>" (config agentCommand, PARALLEL_CC_AGENT_COMMAND) naming a program on PATH or a file',
  locate: (opts) => locateCommand(opts.agentCommand, { ...(opts.pathEnv ? { pathEnv: opts.pathEnv } : {}), cwd: opts.cwd }),
  launch: (opts) => {
    const env: Record<string, string> = {};
    if (opts.proxyUrl) {
      for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) env[k] = opts.proxyUrl;
      env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
    }
    return { argv: [opts.agentPath, ...(opts.args ?? [])], env, stdin: opts.prompt };
  },
  parser: () => (line) => (line.trim() === '' ? [] : [{ type: 'text', text: line }]),
  stderrLine: (text) => [{ type: 'text', text }],
  reportsResult: false,
};
