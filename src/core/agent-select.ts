import type { Agent, AgentInstall, AgentLocateOptions } from '../agents/agent.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../errors.js';
import type { SandboxHandle, SandboxProvider } from '../providers/provider.js';
import type { Context } from './context.js';

/** What an agent's `locate` reads: the config's agent keys, the host's PATH, the working folder. */
export function locateOptions(config: Partial<Pick<Config, 'claudeBin' | 'agentCommand'>>, ctx: Pick<Context, 'env' | 'cwd'>): AgentLocateOptions {
  return {
    ...(config.claudeBin ? { claudeBin: config.claudeBin } : {}),
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
  if (install.kind === 'package') {
    throw new AppError('environment', `${agent.label} is a node package folder (${install.dir}), which no sandbox provider can mount yet`, { hint: 'Point it at a self-contained binary instead.' });
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
