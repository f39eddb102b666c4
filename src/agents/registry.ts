import { AppError } from '../errors.js';
import type { Agent } from './agent.js';
import { claudeAgent } from './claude/index.js';
import { codexAgent } from './codex/index.js';
import { commandAgent } from './command/index.js';
import { geminiAgent } from './gemini/index.js';
import { AGENT_NAMES, DEFAULT_AGENT, type AgentName } from './names.js';

export { AGENT_NAMES, DEFAULT_AGENT, type AgentName } from './names.js';

/** Every agent CLI parallel-cc can run: one line each (and its name in names.ts). */
const AGENTS: Record<AgentName, Agent> = {
  claude: claudeAgent,
  codex: codexAgent,
  gemini: geminiAgent,
  command: commandAgent,
};

/** The agent of a name; an unknown name is a usage error. */
export function agentFor(name: string | null | undefined): Agent {
  const agent = (AGENTS as Record<string, Agent>)[name ?? DEFAULT_AGENT];
  if (!agent) throw new AppError('usage', `unknown agent CLI "${String(name)}"`, { hint: `Use one of: ${AGENT_NAMES.join(', ')}.` });
  return agent;
}
