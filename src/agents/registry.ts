import { AppError } from '../errors.js';
import type { Agent } from './agent.js';
import { claudeAgent } from './claude/index.js';
import { codexAgent } from './codex/index.js';
import { commandAgent } from './command/index.js';
import { geminiAgent } from './gemini/index.js';

/** Every agent CLI parallel-cc can run: one line each. */
const AGENTS = {
  claude: claudeAgent,
  codex: codexAgent,
  gemini: geminiAgent,
  command: commandAgent,
} satisfies Record<string, Agent>;

/** An agent name (`--agent-cli`, config `agentCli`). */
export type AgentName = keyof typeof AGENTS;
/** The names, for the config schema and help. */
export const AGENT_NAMES = Object.keys(AGENTS) as [AgentName, ...AgentName[]];
/** The agent runs use when nothing says otherwise (and that rows from before the `agent` column ran). */
export const DEFAULT_AGENT: AgentName = 'claude';

/** The agent of a name; an unknown name is a usage error. */
export function agentFor(name: string | null | undefined): Agent {
  const agent = (AGENTS as Record<string, Agent>)[name ?? DEFAULT_AGENT];
  if (!agent) throw new AppError('usage', `unknown agent CLI "${String(name)}"`, { hint: `Use one of: ${AGENT_NAMES.join(', ')}.` });
  return agent;
}
