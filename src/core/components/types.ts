/**
 * Components: Claude Code files in claude-code-templates' catalog format (spec 004) — agents and
 * slash commands (markdown with YAML front matter), MCP servers, settings and hooks (JSON). They are
 * resolved on the host and installed into the sandbox only, never into the repository or the branch.
 */

/** The kinds `sandbox run` takes, each with its flag and its folder in the catalog. */
export const COMPONENT_KINDS = {
  agent: { flag: '--agent', dir: 'agents', ext: '.md' },
  command: { flag: '--command', dir: 'commands', ext: '.md' },
  mcp: { flag: '--mcp', dir: 'mcps', ext: '.json' },
  setting: { flag: '--setting', dir: 'settings', ext: '.json' },
  hook: { flag: '--hook', dir: 'hooks', ext: '.json' },
} as const;

/** A component kind. */
export type ComponentKind = keyof typeof COMPONENT_KINDS;

/** A component as the user named it: `category/name`, `name`, or a local file path. */
export interface ComponentRef {
  kind: ComponentKind;
  spec: string;
}

/** Where a component was found (resolution order: path, repo, cache, catalog). */
export type ComponentSource = 'path' | 'repo' | 'cache' | 'catalog';

/** A resolved, validated component. */
export interface Component {
  kind: ComponentKind;
  /** As given (`development/frontend-developer`, `./my-agent.md`). */
  spec: string;
  /** The component's own name: the agent's front-matter `name`, else the file's base name. */
  name: string;
  source: ComponentSource;
  /** The file's text (markdown with front matter, or JSON). */
  text: string;
  /** Agents and commands: the front matter's fields. MCP/settings/hooks: the parsed JSON. */
  data: Record<string, unknown>;
  /** `repo`: already in the uploaded repository (`.claude/agents/<name>.md`); nothing to install. */
  inRepo?: boolean;
}

/** How `agent` + `command` + … are recorded on the session row and shown by `status`. */
export function componentLabel(c: Pick<Component, 'kind' | 'spec' | 'source'>): string {
  return `${c.kind}:${c.spec} (${c.source})`;
}
