import { posix } from 'node:path';
import type { Agent, AgentInstall, AgentLaunch, AgentLocateOptions } from '../agents/agent.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../errors.js';
import { execCollect, type SandboxHandle, type SandboxProvider } from '../providers/provider.js';
import type { Context } from './context.js';
import type { Credential } from './net/api-broker.js';

/** What an agent's `locate` reads: the config's agent keys, the host's PATH, the working folder. */
export function locateOptions(config: Partial<Pick<Config, 'claudeBin' | 'agentCommand' | 'codexBin' | 'geminiDir'>>, ctx: Pick<Context, 'env' | 'cwd'>): AgentLocateOptions {
  return {
    ...(config.claudeBin ? { claudeBin: config.claudeBin } : {}),
    ...(config.codexBin ? { codexBin: config.codexBin } : {}),
    ...(config.geminiDir ? { geminiDir: config.geminiDir } : {}),
    ...(config.agentCommand ? { agentCommand: config.agentCommand } : {}),
    ...(ctx.env.PATH ? { pathEnv: ctx.env.PATH } : {}),
    cwd: ctx.cwd,
  };
}

/**
 * Finds the agent on the host and checks that the provider can run it, before anything is created:
 * a sandbox that brings its own agent (a cloud template) cannot mount a host file.
 */
export function locateAgent(agent: Agent, provider: SandboxProvider, config: Config, ctx: Pick<Context, 'env' | 'cwd'>): AgentInstall {
  const install = agent.locate(locateOptions(config, ctx));
  if (install.kind === 'package' && !provider.capabilities.packageAgents) {
    throw new AppError('usage', `${agent.label} is a node package folder on this machine (${install.dir}), which the ${provider.name} provider cannot mount`, { hint: 'Use a local provider (--provider native or docker).' });
  }
  // Without a model credential there is no egress policy to hand a provider that enforces its own
  // (E2B's network rules carry the model API): such a sandbox would get an open network. Refused.
  if (!agent.credential && !(provider.capabilities.hostBridges ?? provider.capabilities.egressControlled)) {
    throw new AppError('usage', `${agent.label} runs in local sandboxes only (its egress rules need parallel-cc's proxy)`, { hint: 'Use --provider native or docker.' });
  }
  if (install.kind === 'binary' && provider.capabilities.agentInstalled && !agent.templateCommand) {
    throw new AppError('usage', `${agent.label} is a file on this machine (${install.path}); a sandbox that brings its own agent cannot run it`, {
      hint: 'Give a command the sandbox has (e.g. --agent-command "sh -c …"), or use a local provider (--provider native or docker).',
    });
  }
  return install;
}

/** The agent's program as the sandbox sees it: a system or template command by name, else the provider's mount. */
export function agentPathIn(install: AgentInstall, sandbox: SandboxHandle): string {
  return install.kind === 'sandbox' ? install.command : sandbox.agentPath;
}

/** The agent's argv as the sandbox runs it: a package's entry runs with the sandbox's node. */
export function launchArgv(install: AgentInstall, sandbox: SandboxHandle, argv: string[]): string[] {
  if (install.kind !== 'package') return argv;
  if (!sandbox.nodeArgv) throw new AppError('internal', `the ${sandbox.provider} sandbox has no node to run a package agent with`);
  return [...sandbox.nodeArgv, ...argv];
}

// Writes stdin to "$1" (folders made, owner-only). The script is fixed: the path is argv, the content stdin.
const WRITE_FILE = 'umask 077 && mkdir -p "$(dirname "$1")" && cat > "$1"';

/**
 * Writes files below the sandbox home, inside the sandbox (an agent's settings, components): one
 * round trip each, a fixed script with the path as argv and the content on stdin, so nothing of
 * either passes through a shell's parser. Paths are relative to the home and may not leave it.
 */
export async function writeAgentFiles(provider: SandboxProvider, sandbox: SandboxHandle, files: NonNullable<AgentLaunch['files']>): Promise<void> {
  for (const f of files) {
    const path = posix.join(sandbox.homedir, f.path);
    if (!path.startsWith(`${sandbox.homedir}/`)) throw new AppError('internal', `agent file ${f.path} is outside the sandbox home`);
    const r = await execCollect(provider, sandbox, { argv: ['sh', '-c', WRITE_FILE, 'sh', path], stdin: f.content, cwd: sandbox.homedir });
    if (r.exitCode !== 0) throw new AppError('agent', `could not write ${f.path} in the sandbox: ${r.stderr.trim() || `exit code ${String(r.exitCode)}`}`);
  }
}

/**
 * The agent's launch in this sandbox: its argv (the install's arguments, then the components', then
 * a resumed conversation's), the prompt, the key or its placeholder, the broker's and proxy's
 * endpoints. A template's variables never replace the agent's own (its key placeholder, base URL,
 * proxy); the private-dependency variables come last.
 */
export function agentLaunch(agent: Agent, install: AgentInstall, sandbox: SandboxHandle, o: { prompt: string; args: string[]; model?: string; credential?: Credential; apiUrl?: string; templateEnv?: Record<string, string>; depsEnv: Record<string, string> }): AgentLaunch {
  const args = [...(install.args ?? []), ...o.args];
  const launch = agent.launch({
    agentPath: agentPathIn(install, sandbox),
    ...(args.length ? { args } : {}),
    prompt: o.prompt,
    ...(o.credential ? { credential: o.credential } : {}),
    ...(o.apiUrl ? { apiUrl: o.apiUrl } : {}),
    ...(sandbox.endpoints.proxy ? { proxyUrl: sandbox.endpoints.proxy } : {}),
    ...(o.model ? { model: o.model } : {}),
  });
  return { ...launch, argv: launchArgv(install, sandbox, launch.argv), env: { ...(o.templateEnv ?? {}), ...launch.env, ...o.depsEnv } };
}
