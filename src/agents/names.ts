/**
 * The agent CLIs' names, apart from the agents themselves: the config schema and `--help` need
 * only the names, and loading every agent (parsers, pricing, the broker's types) for them would
 * slow down the start of every command. registry.ts checks that each name has its agent.
 */
export const AGENT_NAMES = ['claude', 'codex', 'gemini', 'command'] as const;
/** An agent name (`--agent-cli`, config `agentCli`). */
export type AgentName = (typeof AGENT_NAMES)[number];
/** The agent runs use when nothing says otherwise (and that rows from before the `agent` column ran). */
export const DEFAULT_AGENT: AgentName = 'claude';
