import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { repoRoot } from '../git.js';
import { parseDefinition, WORKFLOW_NAME, type WorkflowDefinition } from './definition.js';

/** Where a workflow is saved: the user's home (`~/.parallel-cc/workflows/`) or a repository's own `.parallel-cc/workflows/`. */
export type WorkflowScope = 'user' | 'repo';

/** A saved workflow as found on disk. */
export interface StoredWorkflow {
  definition: WorkflowDefinition;
  scope: WorkflowScope;
  file: string;
  /** Where its relative paths are resolved: the definition's `cwd`, else the repository root of a repo workflow. */
  cwd: string;
}

/** Where workflows are looked up: the parallel-cc home and the repository around the working folder (if any). */
export interface WorkflowPlaces {
  home: string;
  cwd: string;
}

/** Refuses a name that could not be a plain file name. */
export function checkName(name: string): void {
  if (!WORKFLOW_NAME.test(name)) throw new AppError('usage', `"${name}" is not a workflow name`, { hint: 'Use letters, digits, - and _ (up to 64), e.g. nightly-tests.' });
}

const userDir = (home: string): string => join(home, 'workflows');
const repoDir = (root: string): string => join(root, '.parallel-cc', 'workflows');
const repoOf = (cwd: string): Promise<string | undefined> => repoRoot(cwd).catch(() => undefined);

/** The folders to search, repository first (a repository's workflow wins over the user's of the same name). */
async function dirs(places: WorkflowPlaces): Promise<Array<{ scope: WorkflowScope; dir: string; root?: string }>> {
  const root = await repoOf(places.cwd);
  return [...(root ? [{ scope: 'repo' as const, dir: repoDir(root), root }] : []), { scope: 'user' as const, dir: userDir(places.home) }];
}

async function readStored(file: string, scope: WorkflowScope, root: string | undefined): Promise<StoredWorkflow | undefined> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new AppError('environment', `cannot read workflow ${file}: ${e.message}`);
  });
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new AppError('usage', `invalid workflow definition ${file}: not JSON (${(e as Error).message})`, { hint: 'Fix the file, or remove it with `parallel-cc workflow rm`.' });
  }
  const definition = parseDefinition(value, file);
  return { definition, scope, file, cwd: definition.cwd ?? root ?? '/' };
}

/** Finds a workflow by name (repository first); a not_found error lists where it looked. */
export async function loadWorkflow(name: string, places: WorkflowPlaces): Promise<StoredWorkflow> {
  checkName(name);
  const searched = await dirs(places);
  for (const d of searched) {
    const found = await readStored(join(d.dir, `${name}.json`), d.scope, d.root);
    if (found) return found;
  }
  throw new AppError('not_found', `no workflow "${name}" (looked in ${searched.map((d) => d.dir).join(' and ')})`, { hint: 'List them with `parallel-cc workflow list`; save one with `parallel-cc workflow create`.' });
}

/** Every saved workflow, repository ones first; a name saved in both places is listed once (the repository's). */
export async function listWorkflows(places: WorkflowPlaces): Promise<StoredWorkflow[]> {
  const out: StoredWorkflow[] = [];
  for (const d of await dirs(places)) {
    const names = await readdir(d.dir).catch(() => [] as string[]);
    for (const f of names.filter((n) => n.endsWith('.json')).sort()) {
      if (out.some((w) => `${w.definition.name}.json` === f)) continue;
      const w = await readStored(join(d.dir, f), d.scope, d.root);
      if (w) out.push(w);
    }
  }
  return out;
}

/** Saves a definition (validated again) as `<name>.json` in its scope; an existing one only with `force`. Returns the file. */
export async function saveWorkflow(def: WorkflowDefinition, scope: WorkflowScope, places: WorkflowPlaces, force: boolean): Promise<string> {
  checkName(def.name);
  parseDefinition(def, `"${def.name}"`);
  const root = scope === 'repo' ? await repoRoot(places.cwd) : undefined;
  const dir = root ? repoDir(root) : userDir(places.home);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${def.name}.json`);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(def, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (!force && (await readFile(file).then(() => true, () => false)))
      throw new AppError('usage', `workflow "${def.name}" already exists (${file})`, { hint: 'Pass --force to replace it, or pick another name.' });
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return file;
}

/** Removes a workflow (the one `workflow run` would use) and returns its file. */
export async function removeWorkflow(name: string, places: WorkflowPlaces): Promise<string> {
  const w = await loadWorkflow(name, places).catch(async (e: unknown) => {
    // An invalid file can still be removed.
    if (!(e instanceof AppError) || e.kind !== 'usage') throw e;
    for (const d of await dirs(places)) {
      const file = join(d.dir, `${name}.json`);
      if (await readFile(file).then(() => true, () => false)) return { file };
    }
    throw e;
  });
  await rm(w.file);
  return w.file;
}

/**
 * The workflow's trigger secret (`workflow serve`): kept in the home folder only (mode 0600), never
 * in a definition, so a repository's workflows can be committed. Made on first use.
 */
export async function workflowSecret(name: string, home: string): Promise<string> {
  checkName(name);
  const dir = join(userDir(home), '.secrets');
  const file = join(dir, name);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined && existing.trim() !== '') return existing.trim();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  // Exclusive: two processes making it at once agree on the first one written.
  const made = await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new AppError('environment', `cannot write the trigger secret ${file}: ${e.message}`);
      return false;
    },
  );
  return made ? secret : (await readFile(file, 'utf8')).trim();
}

/**
 * Takes a trigger's delivery id once, across server restarts and processes: an exclusive file
 * named by its hash in `<home>/workflows/.deliveries` (ids older than `keepMs` are forgotten:
 * their timestamps are refused anyway). False when it was taken before.
 */
export async function claimDelivery(home: string, delivery: string, now: Date, keepMs: number): Promise<boolean> {
  const dir = join(userDir(home), '.deliveries');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const f of await readdir(dir)) {
    const at = await stat(join(dir, f)).then((st) => st.mtimeMs, () => now.getTime());
    if (now.getTime() - at > keepMs) await rm(join(dir, f), { force: true });
  }
  const file = join(dir, createHash('sha256').update(delivery).digest('hex'));
  return writeFile(file, '', { flag: 'wx', mode: 0o600 }).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') return false;
      throw new AppError('environment', `cannot record the delivery in ${dir}: ${e.message}`);
    },
  );
}
