import { resolve } from 'node:path';
import type { Context } from '../../core/context.js';
import { repoRoot } from '../../core/git.js';
import { planTemplate } from '../../core/templates/apply.js';
import { loadTemplate } from '../../core/templates/resolve.js';
import type { Template } from '../../core/templates/schema.js';
import { providerNames } from '../../providers/registry.js';

/** The repo root of `--repo` when it is a repository (templates outside a repo are the user's and the built-in ones). */
export async function repoRootOrUndefined(ctx: Context, repo: string | undefined): Promise<{ repoRoot?: string }> {
  const root = await repoRoot(resolve(ctx.cwd, repo ?? '.')).catch(() => undefined);
  return root ? { repoRoot: root } : {};
}

/** `parallel-cc templates show <name>`: the template, where it comes from, and what each provider ignores. */
export async function showTemplate(name: string, repo: string | undefined, ctx: Context): Promise<{ name: string; source: string; path?: string; template: Template; providers: Array<{ provider: string; ignored: string[]; notes: string[] }> }> {
  const t = loadTemplate(name, { home: ctx.home, cwd: ctx.cwd, ...(await repoRootOrUndefined(ctx, repo)) });
  return {
    name: t.name,
    source: t.source,
    ...(t.path ? { path: t.path } : {}),
    template: t.template,
    providers: providerNames().map((p) => {
      const plan = planTemplate(t.template, p);
      return { provider: p, ignored: plan.ignored, notes: plan.notes };
    }),
  };
}
