import type { Component } from '../../core/components/types.js';
import type { ComponentInstall } from '../agent.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Merges settings: objects key by key, arrays concatenated (hook lists of the same event add up), scalars last wins. */
function merge(into: Json, from: Json): Json {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (isObj(cur) && isObj(v)) into[k] = merge({ ...cur }, v);
    else if (Array.isArray(cur) && Array.isArray(v)) into[k] = [...(cur as unknown[]), ...(v as unknown[])];
    else into[k] = v;
  }
  return into;
}

const without = (o: Json, key: string): Json => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

/**
 * Claude Code's reading of components, as the claude binary honours them (checked against it):
 * agents and commands go to the sandbox user's `~/.claude/agents|commands/` (user level, so nothing
 * lands in the workspace or on the branch); the first agent is the session's main agent
 * (`--agent <name>`: its body becomes the system prompt), the others are subagents; the first
 * command runs as the prompt's slash command (`/<name> <prompt>`: its text with the prompt as
 * $ARGUMENTS), the others stay available; MCP servers are one `--mcp-config` file; settings and
 * hooks merge into `~/.claude/settings.json`. Components already in the repo's `.claude/` are used
 * where they are.
 */
export function claudeComponents(set: readonly Component[], homedir: string, prompt: string): ComponentInstall {
  const files: ComponentInstall['files'] = [];
  const args: string[] = [];
  const claudeDir = `${homedir}/.claude`;
  const agents = set.filter((c) => c.kind === 'agent');
  const commands = set.filter((c) => c.kind === 'command');
  for (const c of [...agents, ...commands]) {
    if (!c.inRepo) files.push({ path: `${claudeDir}/${c.kind === 'agent' ? 'agents' : 'commands'}/${c.name}.md`, content: c.text });
  }
  const main = agents[0];
  if (main) args.push('--agent', main.name);
  const servers: Json = {};
  for (const c of set.filter((x) => x.kind === 'mcp')) {
    for (const [name, server] of Object.entries(isObj(c.data.mcpServers) ? c.data.mcpServers : {})) servers[name] = isObj(server) ? without(server, 'description') : server;
  }
  if (Object.keys(servers).length) {
    const path = `${claudeDir}/parallel-cc-mcp.json`;
    files.push({ path, content: `${JSON.stringify({ mcpServers: servers }, null, 2)}\n` });
    args.push('--mcp-config', path);
  }
  const settings = set.filter((x) => x.kind === 'setting' || x.kind === 'hook').reduce<Json>((acc, c) => merge(acc, without(c.data, 'description')), {});
  if (Object.keys(settings).length) files.push({ path: `${claudeDir}/settings.json`, content: `${JSON.stringify(settings, null, 2)}\n` });
  const command = commands[0];
  return { files, args, prompt: command ? `/${command.name} ${prompt}` : prompt };
}
