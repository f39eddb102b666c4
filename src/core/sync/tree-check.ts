/**
 * The rules a tree must pass before anything from a sandbox lands on the host. They judge a tree as
 * git will write it to disk (paths, modes, symlinks resolved through the tree's own links), never a
 * textual rendering of it such as patch text. Pure functions; the git I/O is in `git-tree.ts`.
 *
 * The symlink rule: a link may only point inside the tree. Its target is resolved the way the kernel
 * would resolve it in a checkout of the tree — component by component, following every link on the
 * way (links through links), `..` going up physically — and refused when it is absolute, climbs
 * above the root or passes into `.git`. A loop (more than {@link MAX_LINK_HOPS} hops) resolves
 * nowhere, as for the kernel (ELOOP), and is accepted: nothing can be reached through it.
 */

/** One blob entry of a tree (`git ls-tree -r` / `git diff-tree -r` output). */
export interface TreeEntry {
  /** Six octal digits: 100644, 100755, 120000 (symlink), 160000 (gitlink). */
  mode: string;
  oid: string;
  path: string;
}

/** Why an entry must not land. */
export interface TreeProblem {
  path: string;
  problem: string;
}

/** Like Linux's MAXSYMLINKS. */
export const MAX_LINK_HOPS = 40;
const MAX_TARGET_BYTES = 4095;

/** Code points HFS+ ignores in names (so `.g\u200cit` is `.git` there) and bidi controls. */
const IGNORABLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/g;

/** True when one path component names git's own folder in any spelling a filesystem may fold to it. */
export function isGitDirName(component: string): boolean {
  const c = component
    .replace(IGNORABLE, '')
    .replace(/:.*$/, '') // NTFS alternate data streams: .git::$INDEX_ALLOCATION
    .replace(/[. ]+$/, '') // NTFS drops trailing dots and spaces
    .toLowerCase();
  return c === '.git' || c === 'git~1';
}

/** Why a repository-relative path must not be written, or undefined when it is fine. */
export function pathProblem(p: string): string | undefined {
  if (p === '' || p.includes('\0')) return 'empty or NUL path';
  // Paths are judged as UTF-8 text: bytes that are not UTF-8 all read as U+FFFD, so two such names
  // would be one path to the judge (a harmless link standing in for an escaping one) and none is
  // the path the kernel would look up. Such a name (or one holding U+FFFD itself) cannot be judged.
  if (p.includes('\ufffd')) return 'path that is not UTF-8 (or names U+FFFD)';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'absolute path';
  const parts = p.split(/[\\/]/);
  if (parts.includes('..')) return 'path escapes the repository (..)';
  if (parts.some((c) => c === '' || c === '.')) return 'path with an empty or "." component';
  if (parts.some(isGitDirName)) return 'path inside .git';
  return undefined;
}

/** Why a new or changed entry must not land (its path and its mode), or undefined. */
export function entryProblem(e: TreeEntry): string | undefined {
  const p = pathProblem(e.path);
  if (p) return p;
  if (e.mode === '160000') return 'submodule (gitlink) entries are not accepted';
  if (e.mode !== '100644' && e.mode !== '100755' && e.mode !== '120000') return `unsupported file mode ${e.mode}`;
  const name = e.path.split('/').pop() ?? '';
  if (name.toLowerCase() === '.gitmodules') return 'submodule configuration (.gitmodules) is not accepted';
  return undefined;
}

/** What a tree holds at each path, for resolving links. */
export interface TreeIndex {
  /** Symlink path → target (bytes as latin1, so every byte is one character). */
  links: ReadonlyMap<string, string>;
}

/** Builds the lookup {@link resolveLink} needs from a full listing and the link targets. */
export function indexTree(entries: readonly TreeEntry[], targets: ReadonlyMap<string, string>): TreeIndex {
  const links = new Map<string, string>();
  for (const e of entries) if (e.mode === '120000') links.set(e.path, targets.get(e.path) ?? '');
  return { links };
}

/** Where a target lands (components), that it lands nowhere (a loop: ELOOP), or why it is unsafe. */
type Walk = { stack: string[] } | { nowhere: true } | { problem: string };

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Resolves `raw` (a target's bytes as latin1) from the folder `from` (components), following the
 * tree's links on the way. The target is read as UTF-8, as the tree's paths are: read byte-wise,
 * a link named `é` would not be found from a target naming it, and the kernel would follow what
 * the walk took for a folder. A target that is not UTF-8 cannot be matched against the paths, so
 * it is refused.
 */
function walk(raw: string, from: readonly string[], tree: TreeIndex, budget: { hops: number }): Walk {
  if (raw === '') return { problem: 'empty symlink target' };
  if (raw.includes('\0')) return { problem: 'symlink target with a NUL byte' };
  if (Buffer.byteLength(raw, 'latin1') > MAX_TARGET_BYTES) return { problem: 'symlink target too long' };
  let target: string;
  try {
    target = STRICT_UTF8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    return { problem: 'symlink target that is not UTF-8' };
  }
  // U+FFFD is what every non-UTF-8 byte of a path reads as: a target naming it could match a path it is not.
  if (target.includes('\ufffd')) return { problem: 'symlink target that names U+FFFD' };
  if (target.startsWith('/')) return { problem: `symlink to an absolute path (${target})` };
  let stack = [...from];
  const parts = target.split('/');
  for (const c of parts) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) return { problem: `symlink pointing outside the repository (${target})` };
      stack.pop();
      continue;
    }
    if (isGitDirName(c)) return { problem: `symlink into .git (${target})` };
    stack.push(c);
    const here = stack.join('/');
    const next = tree.links.get(here);
    if (next !== undefined) {
      budget.hops += 1;
      // The kernel gives up with ELOOP here: the link resolves nowhere, so it cannot be written through.
      if (budget.hops > MAX_LINK_HOPS) return { nowhere: true };
      const inner = walk(next, stack.slice(0, -1), tree, budget);
      if (!('stack' in inner)) return inner;
      stack = inner.stack;
      continue;
    }
  }
  return { stack };
}

/**
 * Resolves the symlink at `path` against the tree and says why it is unsafe, or undefined when it
 * stays inside. Missing components, and files with more to follow, are taken as plain folders (a
 * later change could make them so), so `missing/../..` is judged as climbing: the conservative reading.
 */
export function linkProblem(path: string, tree: TreeIndex): string | undefined {
  const own = tree.links.get(path) ?? '';
  const r = walk(own, path.split('/').slice(0, -1), tree, { hops: 0 });
  if (!('problem' in r)) return undefined;
  // Name the link's own target when the problem is further down its chain.
  const shown = Buffer.from(own, 'latin1').toString('utf8');
  return r.problem.endsWith(`(${shown})`) ? r.problem : `${r.problem} via ${path} -> ${shown}`;
}

/**
 * Judges a tree: every entry in `judged` (the paths that differ from the start tree) must pass
 * {@link entryProblem}, and every symlink among them must resolve inside the tree. Entries the
 * sandbox did not change (the user's own) are not judged, but links are followed through them.
 */
export function checkTree(entries: readonly TreeEntry[], targets: ReadonlyMap<string, string>, judged: ReadonlySet<string>): TreeProblem[] {
  const tree = indexTree(entries, targets);
  const problems: TreeProblem[] = [];
  for (const e of entries) {
    if (!judged.has(e.path)) continue;
    const p = entryProblem(e) ?? (e.mode === '120000' ? linkProblem(e.path, tree) : undefined);
    if (p) problems.push({ path: e.path, problem: p });
  }
  return problems;
}
