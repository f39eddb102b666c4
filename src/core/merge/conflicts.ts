import { resolve } from 'node:path';
import type { Session } from '../../store/sessions.js';
import type { Context } from '../context.js';
import { git, repoRoot } from '../git.js';
import { withRegistry } from '../registry.js';
import { previewTree } from './build.js';
import { branchTip, currentBranch, isAncestor } from './refs.js';
import { selectSessions } from './select.js';

/** What `parallel-cc conflicts` asks for. */
export interface ConflictsRequest {
  group?: string;
  /** Sessions to compare (default: every ended session of the repo whose branch is not merged). */
  sessions?: string[];
  repo?: string;
  /** The base each branch is checked against (default: the repo's checked-out branch). */
  base?: string;
}

/** One session branch against the base. */
export interface BranchConflicts {
  sessionId: string;
  taskId: string | null;
  branch: string;
  files: string[];
  cleanWithBase: boolean;
  conflictsWithBase: string[];
}

/** Two session branches against each other. */
export interface PairConflicts {
  a: string;
  b: string;
  /** Files both branches change. */
  sharedFiles: string[];
  /** Shared files where their changed line ranges overlap (or touch). */
  overlappingFiles: string[];
  /** Would the two merge cleanly with each other (`git merge-tree`)? */
  clean: boolean;
  conflicts: string[];
}

/** What {@link crossConflicts} found. */
export interface ConflictsOutput {
  repo: string;
  base: string;
  branches: BranchConflicts[];
  pairs: PairConflicts[];
}

type Ranges = Map<string, Array<[number, number]>>;

/** The changed line ranges of each file between two commits, in the old file's numbering (`diff -U0`). */
async function changedRanges(repo: string, from: string, to: string): Promise<Ranges> {
  const out = await git(repo, ['diff', '--no-color', '--no-ext-diff', '--no-renames', '-U0', from, to]);
  const ranges: Ranges = new Map();
  let file: string | undefined;
  for (const line of out.split('\n')) {
    const f = /^diff --git a\/(.*) b\//.exec(line);
    if (f?.[1] !== undefined) {
      file = f[1];
      ranges.set(file, []);
      continue;
    }
    const h = /^@@ -(\d+)(?:,(\d+))? /.exec(line);
    if (h && file !== undefined) {
      const start = Number(h[1]);
      const len = h[2] === undefined ? 1 : Number(h[2]);
      // A pure insertion (len 0) sits after line `start`: it touches that line and the next.
      ranges.get(file)?.push(len === 0 ? [start, start + 1] : [start, start + len - 1]);
    }
  }
  return ranges;
}

const overlaps = (x: Array<[number, number]>, y: Array<[number, number]>): boolean => x.some(([a, b]) => y.some(([c, d]) => a <= d + 1 && c <= b + 1));

/**
 * The conflict pre-check across sessions (`parallel-cc conflicts`, MCP `check_session_conflicts`):
 * for every pair of session branches, the files both change, whether their hunks overlap, and
 * whether they merge cleanly with each other; for each branch, whether it merges cleanly with the
 * base. Only `git merge-tree` and diffs: nothing in the repository changes.
 */
export async function crossConflicts(req: ConflictsRequest, ctx: Context): Promise<ConflictsOutput> {
  const picked = await withRegistry(ctx, async (sessions) => {
    if (req.group !== undefined || req.sessions?.length) return selectSessions(sessions, req.sessions ?? [], req.group);
    const repo = await repoRoot(resolve(ctx.cwd, req.repo ?? '.'));
    return sessions.list({ repoPath: repo, kind: 'sandbox' }).filter((s) => s.branch && s.mergedInto === null).reverse();
  });
  const repo = await repoRoot(picked[0]?.repoPath ?? resolve(ctx.cwd, req.repo ?? '.'));
  const base = req.base ?? (await currentBranch(repo));
  const baseTip = (await branchTip(repo, base)) ?? (await git(repo, ['rev-parse', '--verify', `${base}^{commit}`]));
  const live: Array<{ s: Session; tip: string }> = [];
  for (const s of picked) {
    const tip = s.branch ? await branchTip(repo, s.branch) : undefined;
    if (tip && !(await isAncestor(repo, tip, baseTip))) live.push({ s, tip });
  }
  const branches: BranchConflicts[] = [];
  for (const { s, tip } of live) {
    const mb = await git(repo, ['merge-base', baseTip, tip]);
    const p = await previewTree(repo, baseTip, tip);
    branches.push({ sessionId: s.id, taskId: s.taskId, branch: s.branch as string, files: [...(await changedRanges(repo, mb, tip)).keys()], cleanWithBase: p.clean, conflictsWithBase: p.clean ? [] : p.conflicts });
  }
  const pairs: PairConflicts[] = [];
  for (let i = 0; i < live.length; i++) {
    for (let j = i + 1; j < live.length; j++) {
      const [x, y] = [live[i], live[j]] as [(typeof live)[number], (typeof live)[number]];
      const mb = await git(repo, ['merge-base', x.tip, y.tip]);
      const [rx, ry] = await Promise.all([changedRanges(repo, mb, x.tip), changedRanges(repo, mb, y.tip)]);
      const shared = [...rx.keys()].filter((f) => ry.has(f)).sort();
      const p = await previewTree(repo, x.tip, y.tip);
      pairs.push({ a: x.s.id, b: y.s.id, sharedFiles: shared, overlappingFiles: shared.filter((f) => overlaps(rx.get(f) ?? [], ry.get(f) ?? [])), clean: p.clean, conflicts: p.clean ? [] : p.conflicts });
    }
  }
  return { repo, base, branches, pairs };
}
