import { constants as fsc } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { checkTreeAgainst, gitRunner, type GitRunner } from './git-tree.js';
import type { TreeProblem } from './tree-check.js';

/** A scratch repository whose new objects stay apart from the host's until they are judged. */
export interface Quarantine {
  dir: string;
  g: GitRunner;
  /** Copies the quarantined objects into the host's object store (after the trees were judged). */
  migrate(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Creates a bare scratch repository under `parent` that reads the host's objects (alternates) but
 * writes its own, with an index of its own and only the config `git init` writes: neither the host
 * repo's config nor the user's can change how a series is applied.
 */
export async function openQuarantine(parent: string, hostObjects: string): Promise<Quarantine> {
  const dir = await mkdtemp(join(parent, 'import-'));
  const gitDir = join(dir, 'repo.git');
  const g = gitRunner(gitDir, { GIT_INDEX_FILE: join(dir, 'index') });
  await g(['init', '--quiet', '--bare', '--template=', gitDir]);
  await mkdir(join(gitDir, 'objects', 'info'), { recursive: true });
  await writeFile(join(gitDir, 'objects', 'info', 'alternates'), `${hostObjects}\n`);
  const objects = join(gitDir, 'objects');
  return {
    dir,
    g,
    async migrate() {
      for (const fan of await readdir(objects)) {
        if (!/^[0-9a-f]{2}$/.test(fan)) continue;
        await mkdir(join(hostObjects, fan), { recursive: true });
        for (const name of await readdir(join(objects, fan))) {
          // As git does: write a temporary file, then link it into place, so that a concurrent import
          // (another --multi task with the same objects) never sees a half-written object.
          const tmp = join(hostObjects, fan, `tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`);
          await copyFile(join(objects, fan, name), tmp, fsc.COPYFILE_EXCL);
          try {
            await link(tmp, join(hostObjects, fan, name)).catch((e: NodeJS.ErrnoException) => {
              if (e.code !== 'EEXIST') throw e; // the same content under the same name: already there
            });
          } finally {
            await unlink(tmp).catch(() => undefined);
          }
        }
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** One commit of a collected series: its raw commit object (author, message) and its diff. */
export interface SeriesCommit {
  author: { name: string; email: string; date: string };
  message: Buffer;
  /** The diff of the paths the commit deletes, applied first; then the rest. */
  deletions: Buffer;
  patch: Buffer;
}

const FRAME = /^commit (\d{1,12}) (\d{1,12}) (\d{1,12})$/;
const AUTHOR = /^author (.*) <([^<>\n]*)> (\d{1,15} [+-]\d{4})$/m;

/**
 * Splits a collected series (see `collectSandboxResults`) into commits. The framing is by byte
 * count, so nothing inside a message or a diff is ever read as structure; a frame that does not
 * add up is an error, never a guess.
 */
export function parseSeries(buf: Buffer): SeriesCommit[] {
  const out: SeriesCommit[] = [];
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    const m = nl < 0 || nl - at > 40 ? null : FRAME.exec(buf.subarray(at, nl).toString('latin1'));
    if (!m) throw new Error(`malformed results series at byte ${at}`);
    const objLen = Number(m[1]);
    const delLen = Number(m[2]);
    const patchLen = Number(m[3]);
    const objEnd = nl + 1 + objLen;
    if (objEnd + delLen + patchLen > buf.length) throw new Error(`truncated results series at byte ${at}`);
    const obj = buf.subarray(nl + 1, objEnd);
    const split = obj.indexOf('\n\n');
    const headers = (split < 0 ? obj : obj.subarray(0, split)).toString('utf8');
    const a = AUTHOR.exec(headers);
    out.push({
      author: { name: a?.[1] ?? '', email: a?.[2] ?? '', date: a ? `@${a[3] ?? ''}` : '' },
      message: split < 0 ? Buffer.alloc(0) : obj.subarray(split + 2),
      deletions: buf.subarray(objEnd, objEnd + delLen),
      patch: buf.subarray(objEnd + delLen, objEnd + delLen + patchLen),
    });
    at = objEnd + delLen + patchLen;
  }
  return out;
}

/** What applying a series in a quarantine produced. */
export interface AppliedSeries {
  tip: string;
  commits: number;
  problems: TreeProblem[];
  /** Why the series stopped applying (git apply refused a diff), if it did. */
  applyError?: string;
}

/**
 * Applies a collected series on top of `start` inside the quarantine — `git apply --cached` reads
 * each diff, no working tree is written — and judges the tree of every resulting commit against
 * `start`'s ({@link checkTreeAgainst}). Authors, author dates and messages are kept byte for byte;
 * the committer is `identity`.
 */
export async function applySeries(q: Quarantine, start: string, series: Buffer, identity: { name: string; email: string }): Promise<AppliedSeries> {
  const { g } = q;
  let commits: SeriesCommit[];
  try {
    commits = parseSeries(series);
  } catch (e) {
    throw new AppError('results', (e as Error).message, { cause: e });
  }
  await g(['read-tree', start]);
  const startTree = (await g(['rev-parse', `${start}^{tree}`])).toString().trim();
  let tip = start;
  const problems = new Map<string, TreeProblem>();
  const patchFile = join(q.dir, 'patch');
  for (const [i, c] of commits.entries()) {
    for (const part of [c.deletions, c.patch]) {
      if (part.length === 0) continue;
      await writeFile(patchFile, part);
      try {
        await g(['apply', '--cached', '--whitespace=nowarn', '-p1', patchFile]);
      } catch (e) {
        const subject = c.message.toString('utf8').split('\n')[0]?.slice(0, 80) ?? '';
        const why = (e as Error).message.replace(/^`[^`]*` exited with code \d+: /, '');
        return { tip, commits: i, problems: [...problems.values()], applyError: `commit ${i + 1} of ${commits.length} ("${subject}") does not apply: ${why}` };
      }
    }
    const tree = (await g(['write-tree'])).toString().trim();
    tip = (
      await g(['commit-tree', tree, '-p', tip, '-F', '-'], {
        input: c.message,
        env: {
          GIT_AUTHOR_NAME: c.author.name || identity.name,
          GIT_AUTHOR_EMAIL: c.author.email || identity.email,
          ...(c.author.date ? { GIT_AUTHOR_DATE: c.author.date } : {}),
          GIT_COMMITTER_NAME: identity.name,
          GIT_COMMITTER_EMAIL: identity.email,
        },
      })
    )
      .toString()
      .trim();
    for (const p of await checkTreeAgainst(g, startTree, tree)) problems.set(`${p.path}\0${p.problem}`, p);
  }
  return { tip, commits: commits.length, problems: [...problems.values()] };
}
