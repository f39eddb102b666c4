import { posix } from 'node:path';
import type { SandboxHandle, SandboxProvider } from '../../providers/provider.js';
import { writeAgentFiles } from '../agent-select.js';
import type { Agent } from '../../agents/agent.js';
import { AppError } from '../../errors.js';
import { componentLabel, type Component } from './types.js';

/**
 * Installs a run's components for its agent and returns the launch changes (extra arguments, the
 * prompt as the agent gets it). An agent that takes no components was refused before the run.
 */
export async function installComponents(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  agent: Agent,
  set: readonly Component[],
  prompt: string,
  emit: (e: { type: 'phase'; phase: 'running'; message: string }) => void,
): Promise<{ args: string[]; prompt: string }> {
  if (!agent.components) throw new AppError('usage', `the ${agent.name} agent takes no Claude Code components (--agent, --command, --mcp, --setting, --hook)`);
  const plan = agent.components(set, sandbox.homedir, prompt);
  emit({ type: 'phase', phase: 'running', message: `installing ${set.map(componentLabel).join(', ')}` });
  // The plan's paths are the sandbox's own (under its home): written relative to it, never beyond.
  await writeAgentFiles(provider, sandbox, plan.files.map((f) => ({ path: posix.relative(sandbox.homedir, f.path), content: f.content })));
  return { args: plan.args, prompt: plan.prompt };
}
