import { AppError } from '../../errors.js';
import { linkTargets, listTree, readBlobs, type GitRunner, type ListedEntry } from './git-tree.js';
import { entryProblem, indexTree, linkProblem } from './tree-check.js';
import { prepareOutputDir, writeEntries, type OutputEntry } from './safe-write.js';

/** What {@link exportCommit} wrote. */
export interface ExportResult {
  /** Paths written (files and symlinks), in tree order. */
  files: string[];
  /** Requested paths the commit does not have (deleted by the agent). */
  missing: string[];
}

// Blob contents are read in batches so a large tree is never held in memory at once.
const BATCH_BYTES = 64 * 1024 * 1024;

/**
 * Writes files of `commit` into `outDir` straight from git objects — never by reading a worktree,
 * whose links could point anywhere. Every entry to write is judged first (safe path, plain file,
 * executable or link, links resolving inside the commit's own tree); when any is refused nothing is
 * written. Writing then refuses any symlink on the way ({@link writeEntries}).
 */
export async function exportCommit(
  g: GitRunner,
  commit: string,
  outDir: string,
  opts: { paths?: readonly string[]; keep?: (path: string) => boolean; /** The verb of the refusal message. */ verb?: string } = {},
): Promise<ExportResult> {
  const all = await listTree(g, commit);
  const wanted = opts.paths ? new Set(opts.paths) : undefined;
  const chosen = all.filter((e) => (wanted ? wanted.has(e.path) : true) && e.mode !== '160000' && (opts.keep ? opts.keep(e.path) : true));
  const present = new Set(all.map((e) => e.path));
  const missing = opts.paths ? opts.paths.filter((p) => !present.has(p)) : [];
  const targets = await linkTargets(g, all);
  const tree = indexTree(all, targets);
  const refused = chosen.flatMap((e) => {
    const p = entryProblem(e) ?? (e.mode === '120000' ? linkProblem(e.path, tree) : undefined);
    return p ? [`${e.path}: ${p}`] : [];
  });
  if (refused.length > 0) {
    throw new AppError('results', `refused to ${opts.verb ?? 'export'}: ${refused.join('; ')}`, { hint: 'Nothing was written. Inspect the branch with git before using these files.' });
  }
  if (chosen.length > 0) await prepareOutputDir(outDir);
  const batch: ListedEntry[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    const blobs = await readBlobs(
      g,
      batch.filter((e) => e.mode !== '120000').map((e) => e.oid),
    );
    const out: OutputEntry[] = batch.map((e) =>
      e.mode === '120000'
        ? { path: e.path, kind: 'symlink', target: targets.get(e.path) ?? '' }
        : { path: e.path, kind: 'file', executable: e.mode === '100755', data: blobs.get(e.oid) ?? Buffer.alloc(0) },
    );
    await writeEntries(outDir, out);
    batch.length = 0;
    batchBytes = 0;
  };
  for (const e of chosen) {
    batch.push(e);
    batchBytes += e.size;
    if (batchBytes >= BATCH_BYTES) await flush();
  }
  if (batch.length > 0) await flush();
  return { files: chosen.map((e) => e.path), missing };
}

