import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../../errors.js';
import { validateComponent } from './frontmatter.js';
import { COMPONENT_KINDS, type Component, type ComponentKind, type ComponentRef } from './types.js';

/** claude-code-templates' public catalog: the raw files of its `cli-tool/components/` folder. */
export const DEFAULT_CATALOG_URL = 'https://raw.githubusercontent.com/davila7/claude-code-templates/main/cli-tool/components';
/** How long one catalog download may take. */
export const CATALOG_TIMEOUT_MS = 10_000;

/** The catalog settings of an environment: PARALLEL_CC_COMPONENTS_URL and PARALLEL_CC_COMPONENTS_TIMEOUT (seconds). */
export function catalogSettings(env: NodeJS.ProcessEnv): { catalogUrl: string; timeoutMs: number } {
  const s = Number(env.PARALLEL_CC_COMPONENTS_TIMEOUT);
  return { catalogUrl: env.PARALLEL_CC_COMPONENTS_URL || DEFAULT_CATALOG_URL, timeoutMs: Number.isFinite(s) && s > 0 ? s * 1000 : CATALOG_TIMEOUT_MS };
}

/** Where components are looked up. */
export interface ResolveOptions {
  /** The repository root (its `.claude/agents|commands/` count as already installed). */
  repoRoot: string;
  /** Relative local paths resolve against this folder. */
  cwd: string;
  /** The parallel-cc home: the cache is `<home>/components/`. */
  home: string;
  /** PARALLEL_CC_COMPONENTS_URL, else {@link DEFAULT_CATALOG_URL}. */
  catalogUrl: string;
  timeoutMs?: number;
  /** Injected for tests; default the global fetch. */
  fetch?: typeof fetch;
}

/** `category/name` or `name`: lower-case words, no dots at the start, nothing that walks a path. */
const NAME = /^[a-z0-9][a-z0-9_.-]*(\/[a-z0-9][a-z0-9_.-]*)?$/i;

/** True when a spec names a local file rather than a catalog component. */
export function isLocalSpec(kind: ComponentKind, spec: string): boolean {
  return spec.startsWith('/') || spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('~/') || spec.endsWith(COMPONENT_KINDS[kind].ext);
}

/** The cache file of a catalog component. */
export function cachePath(home: string, kind: ComponentKind, spec: string): string {
  return join(home, 'components', COMPONENT_KINDS[kind].dir, `${spec}${COMPONENT_KINDS[kind].ext}`);
}

const readText = (p: string): Promise<string | undefined> => readFile(p, 'utf8').catch(() => undefined);

/** Downloads one catalog file with a timeout; 404 is `undefined`, anything else a clear error. */
export async function fetchCatalogFile(url: string, opts: Pick<ResolveOptions, 'timeoutMs' | 'fetch'>, what: string): Promise<string | undefined> {
  const timeoutMs = opts.timeoutMs ?? CATALOG_TIMEOUT_MS;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (e) {
    const timedOut = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
    throw new AppError('usage', `cannot fetch ${what} from the component catalog: ${timedOut ? `no answer within ${timeoutMs / 1000} s` : (e as Error).message} (${url})`, {
      hint: 'Check the network or PARALLEL_CC_COMPONENTS_URL; a component fetched once is cached in ~/.parallel-cc/components/, and a local file path works offline.',
    });
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new AppError('usage', `the component catalog answered HTTP ${res.status} for ${what} (${url})`, { hint: 'Try again later, or give the component as a local file path.' });
  const text = await res.text();
  if (Buffer.byteLength(text) > 1024 * 1024) throw new AppError('usage', `${what} from the catalog is over 1 MiB; refused`);
  return text;
}

async function resolveOne(ref: ComponentRef, opts: ResolveOptions): Promise<Component> {
  const k = COMPONENT_KINDS[ref.kind];
  const what = `${ref.kind} "${ref.spec}"`;
  const make = (text: string, source: Component['source'], where: string, extra: Partial<Component> = {}): Component => {
    const data = validateComponent(ref.kind, text, where);
    const fileName = basename(ref.spec).replace(/\.(md|json)$/, '');
    const name = ref.kind === 'agent' && typeof data.name === 'string' ? data.name : fileName;
    return { kind: ref.kind, spec: ref.spec, name, source, text, data, ...extra };
  };
  if (isLocalSpec(ref.kind, ref.spec)) {
    const path = ref.spec.startsWith('~/') ? join(homedir(), ref.spec.slice(2)) : isAbsolute(ref.spec) ? ref.spec : resolve(opts.cwd, ref.spec);
    const text = await readText(path);
    if (text === undefined) throw new AppError('usage', `${k.flag} ${ref.spec}: no such file (${path})`, { hint: `Give an existing file, or a catalog name such as ${ref.kind === 'agent' ? 'development/frontend-developer' : 'testing/generate-tests'}.` });
    return make(text, 'path', path);
  }
  if (!NAME.test(ref.spec) || ref.spec.split('/').some((p) => p === '..' || p === '.'))
    throw new AppError('usage', `${k.flag} "${ref.spec}" is not a component name`, { hint: `Use category/name (as in claude-code-templates), a bare name, or a path to a ${k.ext} file.` });
  // Already in the repository (and so uploaded with it): claude reads it from the workspace.
  if (ref.kind === 'agent' || ref.kind === 'command') {
    const inRepo = join(opts.repoRoot, '.claude', k.dir, `${basename(ref.spec)}${k.ext}`);
    const text = await readText(inRepo);
    if (text !== undefined) return make(text, 'repo', inRepo, { inRepo: true });
  }
  const cached = cachePath(opts.home, ref.kind, ref.spec);
  const hit = await readText(cached);
  if (hit !== undefined) return make(hit, 'cache', cached);
  const url = `${opts.catalogUrl.replace(/\/+$/, '')}/${k.dir}/${ref.spec}${k.ext}`;
  const text = await fetchCatalogFile(url, opts, what);
  if (text === undefined) throw new AppError('usage', `unknown ${ref.kind} "${ref.spec}": the catalog has no ${k.dir}/${ref.spec}${k.ext}`, { hint: 'List what is there with `parallel-cc components list`, or check the spelling (category/name).' });
  const c = make(text, 'catalog', url);
  // Only a valid component is cached, written whole (temp file, then rename).
  await mkdir(dirname(cached), { recursive: true, mode: 0o700 });
  const tmp = `${cached}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, cached);
  return c;
}

/**
 * Resolves and validates every component before anything is created: a local path, the repo's
 * `.claude/` folder, the cache, then the catalog (fetched on the host, with a timeout; never from
 * inside the sandbox). Duplicates collapse; the order given is kept (the first agent is the main one).
 */
export async function resolveComponents(refs: readonly ComponentRef[], opts: ResolveOptions): Promise<Component[]> {
  const seen = new Set<string>();
  const unique = refs.filter((r) => {
    const key = `${r.kind}\0${r.spec}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const out: Component[] = [];
  for (const ref of unique) out.push(await resolveOne(ref, opts));
  return out;
}

/** Splits the repeatable, comma-separable component flags into references (`--agent a,b --agent c`). */
export function componentRefs(flags: Partial<Record<ComponentKind, readonly string[] | undefined>>): ComponentRef[] {
  const refs: ComponentRef[] = [];
  for (const kind of Object.keys(COMPONENT_KINDS) as ComponentKind[]) {
    for (const value of flags[kind] ?? []) {
      for (const spec of value.split(',').map((s) => s.trim())) {
        if (spec === '') throw new AppError('usage', `${COMPONENT_KINDS[kind].flag} has an empty name in "${value}"`);
        refs.push({ kind, spec });
      }
    }
  }
  return refs;
}
