import type { Context } from '../../core/context.js';
import { cachedComponents, clearCache, listComponents, showComponent, type ComponentEntry } from '../../core/components/catalog.js';
import { catalogSettings } from '../../core/components/resolve.js';
import { COMPONENT_KINDS, type Component, type ComponentKind } from '../../core/components/types.js';
import { AppError } from '../../errors.js';

const KINDS = Object.keys(COMPONENT_KINDS) as ComponentKind[];

/** Parses a kind argument (`agent`, `agents`, …). */
export function parseKind(raw: string | undefined): ComponentKind | undefined {
  if (raw === undefined) return undefined;
  const k = KINDS.find((x) => x === raw || COMPONENT_KINDS[x].dir === raw);
  if (!k) throw new AppError('usage', `unknown component kind "${raw}"`, { hint: `Use one of: ${KINDS.join(', ')}.` });
  return k;
}


/** `parallel-cc components list [--kind K]`. */
export async function componentsList(flags: { kind?: string }, ctx: Context): Promise<{ entries: ComponentEntry[]; note?: string }> {
  const kind = parseKind(flags.kind);
  return listComponents({ home: ctx.home, ...catalogSettings(ctx.env), env: ctx.env, ...(kind ? { kind } : {}) });
}

/** `parallel-cc components show <kind> <name>`. */
export async function componentsShow(kindRaw: string, spec: string, ctx: Context): Promise<Component> {
  const kind = parseKind(kindRaw) as ComponentKind;
  return showComponent(kind, spec, { repoRoot: ctx.cwd, cwd: ctx.cwd, home: ctx.home, ...catalogSettings(ctx.env) });
}

/** `parallel-cc components cache [--clear]`. */
export async function componentsCache(flags: { clear?: boolean }, ctx: Context): Promise<{ entries: ComponentEntry[]; cleared?: string[] }> {
  if (flags.clear) return { entries: [], cleared: await clearCache(ctx.home) };
  return { entries: await cachedComponents(ctx.home) };
}
