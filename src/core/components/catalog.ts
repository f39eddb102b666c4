import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { AppError } from '../../errors.js';
import { cachePath, DEFAULT_CATALOG_URL, fetchCatalogFile, resolveComponents, type ResolveOptions } from './resolve.js';
import { COMPONENT_KINDS, type Component, type ComponentKind } from './types.js';

/** The public catalog's index (claude-code-templates publishes every component in one JSON file). */
export const DEFAULT_INDEX_URL = 'https://raw.githubusercontent.com/davila7/claude-code-templates/main/docs/components.json';

/** One line of `components list`. */
export interface ComponentEntry {
  kind: ComponentKind;
  /** `category/name`. */
  name: string;
  description: string;
  /** Where the entry comes from. */
  from: 'catalog' | 'cache';
}

/** The catalog's index URL: PARALLEL_CC_COMPONENTS_INDEX_URL, the public index for the public catalog, else `<catalog>/components.json`. */
export function indexUrl(env: NodeJS.ProcessEnv, catalogUrl: string): string {
  if (env.PARALLEL_CC_COMPONENTS_INDEX_URL) return env.PARALLEL_CC_COMPONENTS_INDEX_URL;
  return catalogUrl === DEFAULT_CATALOG_URL ? DEFAULT_INDEX_URL : `${catalogUrl.replace(/\/+$/, '')}/components.json`;
}

const firstLine = (s: unknown): string =>
  (typeof s === 'string' ? s : '')
    .replace(/^"+|"+$/g, '')
    .split(/\\n|\n/)[0]
    ?.slice(0, 160) ?? '';

/** The components in the cache (`<home>/components/<kind dir>/<category>/<name>.<ext>`). */
export async function cachedComponents(home: string, kind?: ComponentKind): Promise<ComponentEntry[]> {
  const out: ComponentEntry[] = [];
  for (const k of Object.keys(COMPONENT_KINDS) as ComponentKind[]) {
    if (kind && k !== kind) continue;
    const root = join(home, 'components', COMPONENT_KINDS[k].dir);
    const files = await readdir(root, { recursive: true }).catch(() => [] as string[]);
    for (const f of files.map(String).filter((x) => x.endsWith(COMPONENT_KINDS[k].ext)).sort()) out.push({ kind: k, name: f.slice(0, -COMPONENT_KINDS[k].ext.length), description: '', from: 'cache' });
  }
  return out;
}

/** Lists the catalog from its index; when the catalog cannot be reached, the cache (and a note why). */
export async function listComponents(opts: Pick<ResolveOptions, 'home' | 'catalogUrl' | 'timeoutMs' | 'fetch'> & { env: NodeJS.ProcessEnv; kind?: ComponentKind }): Promise<{ entries: ComponentEntry[]; note?: string }> {
  const url = indexUrl(opts.env, opts.catalogUrl);
  let text: string | undefined;
  try {
    text = await fetchCatalogFile(url, opts, 'the index');
  } catch (e) {
    return { entries: await cachedComponents(opts.home, opts.kind), note: `${(e as Error).message}; listing the cache instead` };
  }
  if (text === undefined) return { entries: await cachedComponents(opts.home, opts.kind), note: `the catalog has no index at ${url}; listing the cache instead` };
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch {
    throw new AppError('usage', `the catalog index at ${url} is not JSON`);
  }
  const entries: ComponentEntry[] = [];
  for (const k of Object.keys(COMPONENT_KINDS) as ComponentKind[]) {
    if (opts.kind && k !== opts.kind) continue;
    const list = (index as Record<string, unknown>)[COMPONENT_KINDS[k].dir];
    for (const item of Array.isArray(list) ? (list as Array<Record<string, unknown>>) : []) {
      const path = typeof item.path === 'string' ? item.path : '';
      if (!path.endsWith(COMPONENT_KINDS[k].ext)) continue;
      entries.push({ kind: k, name: path.slice(0, -COMPONENT_KINDS[k].ext.length), description: firstLine(item.description), from: 'catalog' });
    }
  }
  return { entries };
}

/** One component, resolved like a run resolves it (and so cached). */
export async function showComponent(kind: ComponentKind, spec: string, opts: ResolveOptions): Promise<Component> {
  const [c] = await resolveComponents([{ kind, spec }], opts);
  if (!c) throw new AppError('internal', 'resolving a component returned nothing');
  return c;
}

/** Removes the cache; returns the files it held. */
export async function clearCache(home: string): Promise<string[]> {
  const entries = await cachedComponents(home);
  await rm(join(home, 'components'), { recursive: true, force: true });
  return entries.map((e) => relative(home, cachePath(home, e.kind, e.name)));
}
