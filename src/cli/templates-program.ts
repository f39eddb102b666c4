import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import { act } from './ops-program.js';

/** `parallel-cc templates list|show`: the environment templates (built-in, ~/.parallel-cc/templates, the repo's). */
export function registerTemplateCommands(program: Command, ctx: Context, setExit: (code: number) => void): void {
  const templates = program.command('templates').description('environment templates for `sandbox run --template` (built-in, ~/.parallel-cc/templates/, <repo>/.parallel-cc/templates/)');
  templates
    .command('list')
    .description('every template by name, and where it comes from (the repo overrides yours, yours the built-in)')
    .option('--repo <path>', "include this repository's templates", '.')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ repo?: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const { listTemplates } = await import('../core/templates/resolve.js');
        const { repoRootOrUndefined } = await import('./commands/templates.js');
        const list = listTemplates({ home: ctx.home, cwd: ctx.cwd, ...(await repoRootOrUndefined(ctx, flags.repo)) });
        const value = list.map((t) => ({ name: t.name, source: t.source, ...(t.path ? { path: t.path } : {}), template: t.template }));
        const w = Math.max(...list.map((t) => t.name.length));
        return { value, human: () => list.map((t) => `${t.name.padEnd(w)}  ${t.source.padEnd(7)}  ${t.template.description ?? ''}`.trimEnd()) };
      }),
    );
  templates
    .command('show')
    .description('one template as JSON, and what each provider makes of it')
    .argument('<name>', 'a template name or a .json file')
    .option('--repo <path>', "include this repository's templates", '.')
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, flags: { repo?: string; json?: boolean }) =>
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const { showTemplate } = await import('./commands/templates.js');
        const out = await showTemplate(name, flags.repo, ctx);
        return { value: out, human: () => [JSON.stringify(out.template, null, 2), '', ...out.providers.map((p) => `${p.provider}: ${p.ignored.length ? `ignores ${p.ignored.join(', ')}` : 'honours every field'}${p.notes.length ? ` (${p.notes.join('; ')})` : ''}`)] };
      })(flags),
    );
}
