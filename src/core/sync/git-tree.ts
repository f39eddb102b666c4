import { run } from '../exec.js';
import { SAFE_GIT_CONFIG } from '../git.js';
import { checkTree, type TreeEntry, type TreeProblem } from './tree-check.js';

/**
 * Environment for git commands whose behaviour must not depend on any config but ours: no system or
 * global config, no prompts, no optional locks. (Repo config still applies; the import pipeline runs
 * in a scratch repository whose config we wrote.)
 */
export const SEALED_GIT_ENV: Readonly<Record<string, string>> = {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  GIT_OPTIONAL_LOCKS: '0',
  GIT_NO_REPLACE_OBJECTS: '1',
};

/** The whole environment of a git the host runs on sandbox-bound or sandbox-made files: PATH and the sealed variables, no home. */
export function hostGitEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C', ...SEALED_GIT_ENV };
}

/** Runs one git command (argv after `git`) and returns its stdout. */
export type GitRunner = (args: readonly string[], opts?: { input?: Buffer | string; env?: Record<string, string> }) => Promise<Buffer>;

/** A runner for a repository (`--git-dir`), with hooks and fsmonitor off and the sealed environment. */
export function gitRunner(gitDir: string, env: Record<string, string> = {}): GitRunner {
  return async (args, opts = {}) => {
    const base: NodeJS.ProcessEnv = { ...hostGitEnv(), ...env, ...opts.env };
    const r = await run(['git', ...SAFE_GIT_CONFIG, '-c', 'gc.auto=0', '-c', 'core.quotePath=false', `--git-dir=${gitDir}`, ...args], {
      env: base,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      errorKind: 'results',
    });
    return r.stdout;
  };
}

/** A listed entry with its blob size in bytes (0 for a gitlink). */
export interface ListedEntry extends TreeEntry {
  size: number;
}

/** Every blob entry of a tree with its size, recursively (`git ls-tree -r -l -z --full-tree`). */
export async function listTree(g: GitRunner, treeish: string): Promise<ListedEntry[]> {
  const out = (await g(['ls-tree', '-r', '-l', '-z', '--full-tree', treeish])).toString('utf8');
  const entries: ListedEntry[] = [];
  for (const rec of out.split('\0')) {
    if (rec === '') continue;
    const tab = rec.indexOf('\t');
    // "<mode> <type> <oid> <size padded with spaces>"; a gitlink's size is "-".
    const [mode, , oid, size] = rec.slice(0, tab).split(/ +/);
    entries.push({ mode: mode as string, oid: oid as string, path: rec.slice(tab + 1), size: Number(size) || 0 });
  }
  return entries;
}

/** One changed path between two trees; `mode` and `oid` are the new side (000000 for a deletion). */
export interface TreeChange extends TreeEntry {
  status: string;
}

/** What differs between two trees, without rename detection (`git diff-tree -r -z --raw`). */
export async function diffTrees(g: GitRunner, from: string, to: string): Promise<TreeChange[]> {
  const parts = (await g(['diff-tree', '-r', '-z', '--no-renames', '--raw', '--no-commit-id', from, to])).toString('utf8').split('\0');
  const changes: TreeChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = (parts[i] as string).replace(/^:/, '').split(' ');
    changes.push({ mode: meta[1] as string, oid: meta[3] as string, status: meta[4] as string, path: parts[i + 1] as string });
  }
  return changes;
}

/** The bytes of blobs, in one `git cat-file --batch` round trip. */
export async function readBlobs(g: GitRunner, oids: readonly string[]): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  if (oids.length === 0) return blobs;
  const out = await g(['cat-file', '--batch'], { input: `${[...new Set(oids)].join('\n')}\n` });
  let at = 0;
  while (at < out.length) {
    const nl = out.indexOf(10, at);
    const [oid, type, size] = out.subarray(at, nl).toString('latin1').split(' ');
    if (type !== 'blob' || size === undefined) throw new Error(`git cat-file: unexpected object ${oid ?? '?'} (${type ?? 'missing'})`);
    const start = nl + 1;
    blobs.set(oid as string, out.subarray(start, start + Number(size)));
    at = start + Number(size) + 1;
  }
  return blobs;
}

/** The targets of every symlink in a listing (path → target as latin1). */
export async function linkTargets(g: GitRunner, entries: readonly TreeEntry[]): Promise<Map<string, string>> {
  const links = entries.filter((e) => e.mode === '120000');
  const blobs = await readBlobs(
    g,
    links.map((e) => e.oid),
  );
  return new Map(links.map((e) => [e.path, (blobs.get(e.oid) ?? Buffer.alloc(0)).toString('latin1')]));
}

/**
 * Judges `tree` against the tree the sandbox started from: every path that differs must be a plain
 * file, executable or symlink at a safe path, and every new or changed symlink must resolve inside the
 * tree. The full listing is read only when there is a link to resolve.
 */
export async function checkTreeAgainst(g: GitRunner, startTree: string, tree: string): Promise<TreeProblem[]> {
  const changes = (await diffTrees(g, startTree, tree)).filter((c) => c.status !== 'D');
  if (changes.length === 0) return [];
  const judged = new Set(changes.map((c) => c.path));
  if (!changes.some((c) => c.mode === '120000')) return checkTree(changes, new Map(), judged);
  const entries = await listTree(g, tree);
  return checkTree(entries, await linkTargets(g, entries), judged);
}
