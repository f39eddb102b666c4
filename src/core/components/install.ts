import { execCollect, type SandboxHandle, type SandboxProvider } from '../../providers/provider.js';
import type { Agent } from '../../agents/agent.js';
import { AppError } from '../../errors.js';
import { componentLabel, type Component } from './types.js';

// Writes stdin to "$1" (folders made, owner-only): data passes as stdin and argv, never in the script.
const WRITE = 'umask 077 && mkdir -p "$(dirname "$1")" && cat > "$1"';

/**
 * Writes component files into the sandbox (under the agent's home: they never enter the workspace,
 * so they can never land on the branch). One round trip per file; a run has a handful.
 */
export async function installComponentFiles(provider: SandboxProvider, sandbox: SandboxHandle, files: ReadonlyArray<{ path: string; content: string }>): Promise<void> {
  for (const f of files) {
    const r = await execCollect(provider, sandbox, { argv: ['sh', '-c', WRITE, 'sh', f.path], stdin: f.content, cwd: sandbox.homedir });
    if (r.exitCode !== 0) throw new AppError('environment', `could not install the component file ${f.path} in the sandbox (exit ${String(r.exitCode ?? r.signal)}): ${r.stderr.trim().slice(-500)}`);
  }
}

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
  await installComponentFiles(provider, sandbox, plan.files);
  return { args: plan.args, prompt: plan.prompt };
}
