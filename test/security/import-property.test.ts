/**
 * Property test of the importer: random commit series (files, folders, symlinks inside and out,
 * renames, mode changes, deletions, links through links, file↔folder↔link type changes) made with
 * real git in a sandbox folder. The importer must either land exactly the sandbox's final tree or
 * refuse with a reason — and it must refuse exactly when some commit holds a link that the kernel
 * (realpath on the real checkout, missing parts lexical) resolves outside the tree. It never writes outside the worktree.
 */
import { readFileSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { importRig, type ImportRig } from '../helpers/import-harness.js';
import { createHash } from 'node:crypto';

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['a', 'b', 'c', 'd'];
const lst = (p: string): Stats | undefined => {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
};

/** Every entry below root (not following links, skipping .git), as relative paths. */
function walk(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (dir === root && name === '.git') continue;
    const p = join(dir, name);
    out.push(relative(root, p));
    if (lst(p)?.isDirectory()) out.push(...walk(root, p));
  }
  return out;
}

/** The user's checkout, byte for byte (its .git's config and hooks included, its object store not). */
function checkoutDigest(repo: string): string {
  const h = createHash('sha256');
  for (const rel of [...walk(repo), '.git/config', ...readdirSync(join(repo, '.git', 'hooks')).map((n) => `.git/hooks/${n}`)].sort()) {
    const st = lst(join(repo, rel));
    h.update(`${rel}:${String(st?.mode)}\n`);
    if (st?.isFile()) h.update(readFileSync(join(repo, rel)));
  }
  return h.digest('hex');
}

/**
 * `realpath -m` with the kernel's own resolution for every part that exists (GNU `realpath -m` does
 * not terminate on some loops): missing parts, and files with more to follow, are taken lexically.
 * Undefined when the kernel gives up with ELOOP (the path resolves nowhere).
 */
function kernelResolve(p: string, hops = 0): string | undefined {
  if (hops > 40) return undefined;
  try {
    return realpathSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return undefined;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
  }
  if (dirname(p) === p) return p;
  const parent = kernelResolve(dirname(p), hops);
  if (parent === undefined) return undefined;
  const q = join(parent, basename(p));
  // A dangling link is still followed: its target is where a write through it would land.
  const st = lst(q);
  if (st?.isSymbolicLink()) {
    const t = readlinkSync(q);
    return kernelResolve(t.startsWith('/') ? t : join(parent, t), hops + 1);
  }
  return q;
}

/** True when some link in the checkout resolves (by the kernel) outside it or into .git. */
function anyLinkEscapes(root: string): boolean {
  for (const rel of walk(root)) {
    if (!lst(join(root, rel))?.isSymbolicLink()) continue;
    const to = kernelResolve(join(root, rel));
    if (to === undefined) continue; // a loop reaches nothing
    if (to !== root && !to.startsWith(`${root}${sep}`)) return true;
    if (relative(root, to).split(sep)[0] === '.git') return true;
  }
  return false;
}

/** One random change to the sandbox folder, never writing through a link (the generator's own safety). */
function mutate(root: string, rnd: () => number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const randomPath = (): string => Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(NAMES)).join('/');
  const parentsOk = (rel: string): boolean => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const st = lst(join(root, ...parts.slice(0, i)));
      if (st && !st.isDirectory()) return false;
    }
    return true;
  };
  const mkParents = (rel: string): void => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = join(root, ...parts.slice(0, i));
      if (!lst(p)) mkdirSync(p);
    }
  };
  const existing = walk(root).filter((p) => p !== 'README.md');
  const randomTarget = (from: string): string => {
    const r = rnd();
    if (r < 0.1) return pick(['/etc', '/tmp/x', '/']);
    if (r < 0.5 && existing.length > 0) return relative(join(root, from, '..'), join(root, pick(existing))) || '.';
    return Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(['..', '..', '.', ...NAMES])).join('/');
  };
  const kind = rnd();
  const path = randomPath();
  if (kind < 0.3) {
    if (!parentsOk(path) || lst(join(root, path))?.isDirectory()) return;
    mkParents(path);
    rmSync(join(root, path), { force: true });
    writeFileSync(join(root, path), rnd() < 0.2 ? Buffer.from([0, 1, 2, Math.floor(rnd() * 255)]) : `content ${rnd()}\n`);
  } else if (kind < 0.55) {
    if (!parentsOk(path) || lst(join(root, path))) return;
    mkParents(path);
    symlinkSync(randomTarget(path), join(root, path));
  } else if (kind < 0.7 && existing.length > 0) {
    const from = pick(existing);
    if (!parentsOk(path) || lst(join(root, path)) || path.startsWith(`${from}/`)) return;
    mkParents(path);
    renameSync(join(root, from), join(root, path));
  } else if (kind < 0.8 && existing.length > 0) {
    const f = pick(existing);
    const st = lst(join(root, f));
    if (st?.isFile()) chmodSync(join(root, f), st.mode & 0o100 ? 0o644 : 0o755);
  } else if (existing.length > 0) {
    const f = pick(existing);
    rmSync(join(root, f), { recursive: true, force: true });
    const to = rnd();
    if (to < 0.33) writeFileSync(join(root, f), 'now a file\n');
    else if (to < 0.66) {
      mkdirSync(join(root, f));
      writeFileSync(join(root, f, pick(NAMES)), 'now a folder\n');
    } else symlinkSync(randomTarget(f), join(root, f));
  }
}

async function oneSeries(seed: number): Promise<{ refused: boolean }> {
  const rnd = prng(seed);
  const rig: ImportRig = await importRig();
  try {
    const userCheckout = checkoutDigest(rig.repo);
    const outside = readdirSync(rig.root).sort();
    let escapes = false;
    const commits = 1 + Math.floor(rnd() * 4);
    for (let c = 0; c < commits; c++) {
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) mutate(rig.sandbox, rnd);
      escapes ||= anyLinkEscapes(rig.sandbox);
      // The last step stays uncommitted now and then: the collection commits it.
      if (c < commits - 1 || rnd() < 0.7) rig.agent(`git add -A && git commit -q --allow-empty -m 'step ${c}'`);
    }
    const head = git(rig.worktree, 'rev-parse', 'HEAD');
    let refusedWith: string | undefined;
    try {
      await rig.land();
    } catch (e) {
      refusedWith = (e as Error).message;
    }
    const note = `seed ${seed}: ${refusedWith ?? 'landed'}\n${rig.agent('git log --stat --format=%s -n 10; find . -path ./.git -prune -o -type l -printf "%p -> %l\\n"')}`;
    if (escapes) {
      expect(refusedWith, note).toMatch(/^refused the agent's results: .+/);
      expect(git(rig.worktree, 'rev-parse', 'HEAD'), note).toBe(head);
    } else {
      expect(refusedWith, note).toBeUndefined();
      expect(git(rig.worktree, 'rev-parse', 'HEAD^{tree}'), note).toBe(rig.sandboxTree());
    }
    // Nothing outside the worktree and the session folder changed.
    expect(checkoutDigest(rig.repo)).toBe(userCheckout);
    expect(readdirSync(rig.root).sort()).toEqual(outside);
    expect(statSync(rig.worktree).isDirectory()).toBe(true);
    return { refused: refusedWith !== undefined };
  } finally {
    rig.cleanup();
  }
}

describe('importer property: lands exactly the sandbox tree or refuses, and refuses exactly the escapes', () => {
  it('holds for 60 random series', { timeout: 300_000 }, async () => {
    const base = Number(process.env.PCC_PROPERTY_SEED ?? 20261201);
    let refused = 0;
    for (let i = 0; i < 60; i++) if ((await oneSeries(base + i)).refused) refused += 1;
    // The generator must exercise both outcomes, or the property says nothing.
    expect(refused).toBeGreaterThan(5);
    expect(refused).toBeLessThan(55);
  });
});
