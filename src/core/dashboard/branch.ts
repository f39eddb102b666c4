import type { Session } from '../../store/sessions.js';
import { gitRaw, splitZ } from '../git.js';
import { safeText } from './digest.js';
import type { DiffStat } from './model.js';

const MAX_DIFF_BYTES = 512 * 1024;

/** The range a session's branch adds to its base, or undefined when it has none (yet). */
function range(s: Session): [string, string] | undefined {
  return s.branch && s.baseCommit ? [s.baseCommit, `refs/heads/${s.branch}`] : undefined;
}

/** Files changed, lines added and removed by a session's branch over its base (`git diff --numstat`). */
export async function branchStat(s: Session): Promise<DiffStat | undefined> {
  const r = range(s);
  if (!r) return undefined;
  const out = await gitRaw(s.repoPath, ['diff', '--numstat', '-z', '--no-renames', r[0], r[1]]).catch(() => undefined);
  if (!out) return undefined;
  const stat: DiffStat = { files: 0, added: 0, removed: 0, paths: [] };
  // -z numstat: "<added>\t<removed>\t<path>\0"; binary files say "-".
  for (const rec of splitZ(out)) {
    const [a = '', d = '', ...p] = rec.split('\t');
    stat.files += 1;
    stat.added += Number(a) || 0;
    stat.removed += Number(d) || 0;
    stat.paths.push(p.join('\t'));
  }
  return stat;
}

/** The branch's diff against its base (capped), its commits (subjects), all made terminal-safe line by line. */
export async function branchDetail(s: Session): Promise<{ diff: string[]; truncated: boolean; commits: Array<{ sha: string; subject: string }> }> {
  const r = range(s);
  if (!r) return { diff: [], truncated: false, commits: [] };
  const raw = await gitRaw(s.repoPath, ['-c', 'core.quotePath=true', 'diff', '--no-color', '--no-ext-diff', '--no-textconv', r[0], r[1]]).catch(() => Buffer.alloc(0));
  const truncated = raw.length > MAX_DIFF_BYTES;
  const diff = raw
    .subarray(0, MAX_DIFF_BYTES)
    .toString('utf8')
    .split('\n')
    .map((l) => safeText(l, 400));
  const log = await gitRaw(s.repoPath, ['log', '-z', '--format=%h%x09%s', '--max-count=200', `${r[0]}..${r[1]}`]).catch(() => Buffer.alloc(0));
  const commits = splitZ(log).map((rec) => {
    const tab = rec.indexOf('\t');
    return { sha: safeText(rec.slice(0, tab), 40), subject: safeText(rec.slice(tab + 1), 200) };
  });
  return { diff, truncated, commits };
}

/**
 * Which other sessions' branches change the same files ("overlaps with 3f1a on src/db.ts"): from
 * the changed-file sets alone, which are cheap, rather than a merge per pair.
 */
export function overlaps(id: string, stats: ReadonlyMap<string, DiffStat>): Array<{ sessionId: string; files: string[] }> {
  const mine = stats.get(id);
  if (!mine) return [];
  const set = new Set(mine.paths);
  const out: Array<{ sessionId: string; files: string[] }> = [];
  for (const [other, st] of stats) {
    if (other === id) continue;
    const files = st.paths.filter((p) => set.has(p));
    if (files.length) out.push({ sessionId: other, files: files.slice(0, 50).map((f) => safeText(f, 200)) });
  }
  return out;
}
