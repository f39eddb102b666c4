import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import { act } from './ops-program.js';

const entryLines = (entries: Array<{ kind: string; name: string; description: string }>): string[] => {
  const w = Math.max(0, ...entries.map((e) => e.kind.length + e.name.length + 1));
  return entries.map((e) => `${`${e.kind} ${e.name}`.padEnd(w)}  ${e.description}`.trimEnd());
};

/** `parallel-cc components list|show|cache`: the claude-code-templates catalog and the local cache. */
export function registerComponentCommands(program: Command, ctx: Context, setExit: (code: number) => void): void {
  const components = program.command('components').description('Claude Code components (agents, commands, MCP servers, settings, hooks) for `sandbox run --agent/--command/…`');
  components
    .command('list')
    .description('components in the catalog (PARALLEL_CC_COMPONENTS_URL; the cache when it is offline)')
    .option('--kind <kind>', 'only this kind: agent, command, mcp, setting, hook')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ kind?: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const out = await (await import('./commands/components.js')).componentsList(flags, ctx);
        return { value: out, ...(out.note ? { warnings: [out.note] } : {}), human: () => (out.entries.length ? entryLines(out.entries) : ['No components.']) };
      }),
    );
  components
    .command('show')
    .description('print one component (fetched into the cache like a run would)')
    .argument('<kind>', 'agent, command, mcp, setting or hook')
    .argument('<name>', 'category/name, a name, or a file path')
    .option('--json', 'one JSON document on stdout')
    .action(async (kind: string, name: string, flags: { json?: boolean }) =>
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const c = await (await import('./commands/components.js')).componentsShow(kind, name, ctx);
        return { value: c, human: () => [`# ${c.kind} ${c.spec} (${c.source})`, c.text.trimEnd()] };
      })(flags),
    );
  components
    .command('cache')
    .description('the components cached in ~/.parallel-cc/components/')
    .option('--clear', 'remove the cache')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ clear?: boolean; json?: boolean }>(ctx, setExit, async (flags) => {
        const out = await (await import('./commands/components.js')).componentsCache(flags, ctx);
        return { value: out, human: () => (out.cleared ? [`removed ${out.cleared.length} cached component(s)`] : out.entries.length ? entryLines(out.entries) : ['The cache is empty.']) };
      }),
    );
}
