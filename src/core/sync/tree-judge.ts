import { entryProblem, linkProblem, type TreeProblem } from './tree-check.js';

/** A path's entry on one side of a change (`000000` mode: no entry). */
interface Side {
  mode: string;
  oid: string;
}

/** One change between consecutive trees of a series, path decoded as UTF-8 (as the full check reads it). */
export interface JudgedChange {
  path: string;
  src: Side;
  dst: Side;
}

const NONE = '000000';
const LINK = '120000';
const same = (a: Side | undefined, b: Side | undefined): boolean => (a?.mode ?? NONE) === (b?.mode ?? NONE) && (a?.oid ?? '') === (b?.oid ?? '');
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Judges every tree of a series against the start tree incrementally: fed the changes between
 * consecutive trees, it yields exactly the problems `checkTreeAgainst(start, tree)` would find for
 * each tree, in the same order, without listing any tree. Why it is the same: a tree's problems are
 * `entryProblem` of each path that differs from the start, plus `linkProblem` of each such symlink,
 * which depends only on the tree's symlinks. So a path not changed by this commit can only bring a
 * problem already found for the tree before — unless the commit changed some symlink, and then every
 * differing symlink is resolved again. The start tree's own links are read once, and only when a
 * differing symlink first needs resolving.
 */
export class TreeJudge {
  /** A touched path's entry in the start tree (undefined: none). */
  private readonly start = new Map<string, Side | undefined>();
  /** A touched path's entry in the current tree. */
  private readonly now = new Map<string, Side | undefined>();
  /** Symlinks of the current tree (path → target bytes as latin1), once the start's were read. */
  private links: Map<string, string> | undefined;
  /** Changes to links made before the start's links were read, replayed onto them. */
  private readonly pendingLinks = new Map<string, string | undefined>();
  private readonly found = new Map<string, TreeProblem>();

  /**
   * @param startLinks the start tree's symlinks (path → target), read only when needed
   * @param targetOf the target of a symlink blob of the series
   */
  constructor(
    private readonly startLinks: () => Promise<Map<string, string>>,
    private readonly targetOf: (oid: string) => string,
  ) {}

  /** Every problem found so far, first found first (each path and problem once). */
  problems(): TreeProblem[] {
    return [...this.found.values()];
  }

  /** Takes the next tree (as its changes from the previous one); returns the problems it adds. */
  async next(changes: readonly JudgedChange[]): Promise<TreeProblem[]> {
    let linksChanged = false;
    const candidates = new Set<string>();
    for (const c of changes) {
      if (!this.start.has(c.path)) this.start.set(c.path, c.src.mode === NONE ? undefined : c.src);
      this.now.set(c.path, c.dst.mode === NONE ? undefined : c.dst);
      if (c.src.mode === LINK || c.dst.mode === LINK) {
        linksChanged = true;
        const target = c.dst.mode === LINK ? this.targetOf(c.dst.oid) : undefined;
        if (this.links) {
          if (target === undefined) this.links.delete(c.path);
          else this.links.set(c.path, target);
        } else this.pendingLinks.set(c.path, target);
      }
      candidates.add(c.path);
    }
    const differing = (p: string): Side | undefined => {
      const e = this.now.get(p);
      return e && !same(e, this.start.get(p)) ? e : undefined;
    };
    if (linksChanged) for (const [p, e] of this.now) if (e?.mode === LINK && differing(p)) candidates.add(p);
    const added: TreeProblem[] = [];
    for (const path of [...candidates].sort(byBytes)) {
      const e = differing(path);
      if (!e) continue;
      let problem = entryProblem({ path, ...e });
      if (!problem && e.mode === LINK) problem = linkProblem(path, { links: await this.currentLinks() });
      if (!problem) continue;
      const key = `${path}\0${problem}`;
      if (this.found.has(key)) continue;
      const p = { path, problem };
      this.found.set(key, p);
      added.push(p);
    }
    return added;
  }

  private async currentLinks(): Promise<Map<string, string>> {
    if (!this.links) {
      const links = await this.startLinks();
      for (const [p, t] of this.pendingLinks) {
        if (t === undefined) links.delete(p);
        else links.set(p, t);
      }
      this.pendingLinks.clear();
      this.links = links;
    }
    return this.links;
  }
}
