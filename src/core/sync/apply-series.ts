import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { linkTargets, listTree } from './git-tree.js';
import type { Quarantine } from './quarantine.js';
import { parseRawChanges, parseSeries, type ParsedSeries, type RawChange, type SeriesCommit } from './series.js';
import { pathProblem, type TreeProblem } from './tree-check.js';
import { TreeJudge, type JudgedChange } from './tree-judge.js';

/** What applying a series in a quarantine produced. */
export interface AppliedSeries {
  tip: string;
  commits: number;
  problems: TreeProblem[];
  /** Why the series stopped applying (a change git cannot or must not build), if it did. */
  applyError?: string;
}

const MODES = new Set(['100644', '100755', '120000', '160000']);
const utf8 = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');
const subject = (c: SeriesCommit): string => c.message.toString('utf8').split('\n')[0]?.slice(0, 80) ?? '';

/** Commit marks follow the blobs' marks (fast-import marks are numbers). */
const commitMark = (blobMarks: number, i: number): number => blobMarks + i + 1;

/** A path for fast-import, C-quoted byte by byte (so no path can end a line or start a command). */
function quote(latin1: string): string {
  let out = '"';
  for (let i = 0; i < latin1.length; i++) {
    const b = latin1.charCodeAt(i);
    if (b === 0x22 || b === 0x5c) out += `\\${latin1[i] as string}`;
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += latin1[i] as string;
  }
  return `${out}"`;
}

/** An ident fast-import takes: no `<`, `>` or newline in name or email (git's commit-tree drops them too). */
const ident = (name: string, email: string): string => `${name.replace(/[<>\n]/g, '')} <${email.replace(/[<>\n]/g, '')}>`;

/** `<seconds> <zone>`; a zone git cannot represent (beyond ±14:00) becomes +0000. */
function rawDate(date: string): string {
  const [secs, zone] = date.split(' ');
  return Number(zone?.slice(1)) > 1400 ? `${secs as string} +0000` : date;
}

function hostDate(now: Date): string {
  const off = -now.getTimezoneOffset();
  const abs = Math.abs(off);
  return `${Math.floor(now.getTime() / 1000)} ${off < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

/** Why a commit's changes cannot be built (an invalid path, a mode git does not write, missing content). */
function unbuildable(c: SeriesCommit, blobs: ParsedSeries['blobs']): string | undefined {
  for (const ch of c.changes) {
    const p = utf8(ch.path);
    const bad = pathProblem(p);
    if (bad) return `invalid path '${p}' (${bad})`;
    if (ch.status === 'D') {
      if (ch.dstMode !== '000000') return `${p}: deleted with mode ${ch.dstMode}`;
      continue;
    }
    if (!MODES.has(ch.dstMode)) return `${p}: unsupported file mode ${ch.dstMode}`;
    if (ch.dstMode !== '160000' && !blobs.has(ch.dstOid)) return `${p}: its content (${ch.dstOid}) is missing from the series`;
  }
  return undefined;
}

/**
 * The fast-import stream that rebuilds `commits` on `start`: blobs from the series' bytes (git hashes
 * them itself), each commit's deletions, then its new entries; authors, author dates and messages
 * byte for byte, the committer ours.
 */
function importStream(start: string, commits: readonly SeriesCommit[], blobs: ParsedSeries['blobs'], identity: { name: string; email: string }, now: Date): { stream: Buffer; blobMarks: number } {
  const parts: Buffer[] = [Buffer.from('feature done\n')];
  const marks = new Map<string, number>();
  for (const c of commits) {
    for (const ch of c.changes) {
      const data = ch.status === 'D' || ch.dstMode === '160000' || marks.has(ch.dstOid) ? undefined : blobs.get(ch.dstOid);
      if (!data) continue;
      marks.set(ch.dstOid, marks.size + 1);
      parts.push(Buffer.from(`blob\nmark :${marks.size}\ndata ${data.length}\n`), data, Buffer.from('\n'));
    }
  }
  // Everything below as bytes, one latin1 character each: the author's come from the commit object.
  const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
  const committer = `${ident(bytes(identity.name), bytes(identity.email))} ${hostDate(now)}`;
  commits.forEach((c, i) => {
    const author = c.author.date ? `${ident(c.author.name || bytes(identity.name), c.author.email || bytes(identity.email))} ${rawDate(c.author.date)}` : committer;
    const head = `commit refs/parallel-cc/import\nmark :${commitMark(marks.size, i)}\nauthor ${author}\ncommitter ${committer}\ndata ${c.message.length}\n`;
    parts.push(Buffer.from(head, 'latin1'), c.message, Buffer.from(i === 0 ? `\nfrom ${start}\n` : '\n'));
    const lines: string[] = [];
    for (const ch of c.changes) if (ch.status === 'D') lines.push(`D ${quote(ch.path)}`);
    for (const ch of c.changes) {
      if (ch.status === 'D') continue;
      lines.push(`M ${ch.dstMode} ${ch.dstMode === '160000' ? ch.dstOid : `:${String(marks.get(ch.dstOid))}`} ${quote(ch.path)}`);
    }
    parts.push(Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n\n` : '\n', 'latin1'));
  });
  parts.push(Buffer.from('done\n'));
  return { stream: Buffer.concat(parts), blobMarks: marks.size };
}

/** The first path where what landed differs from what the sandbox changed, if any. */
function mismatch(declared: readonly RawChange[], landed: readonly RawChange[]): string | undefined {
  const key = (c: RawChange): string => `${c.path}\0${c.srcOid}\0${c.dstMode}\0${c.dstOid}`;
  const a = new Set(declared.map(key));
  const b = new Set(landed.map(key));
  for (const c of [...declared, ...landed]) if (!a.has(key(c)) || !b.has(key(c))) return utf8(c.path);
  return undefined;
}

const judged = (c: RawChange): JudgedChange => ({ path: utf8(c.path), src: { mode: c.srcMode, oid: c.srcOid }, dst: { mode: c.dstMode, oid: c.dstOid } });

/**
 * Rebuilds a collected series on top of `start` inside the quarantine — one `git fast-import` for
 * every commit, from the series' changes and file bytes (no sandbox tree or commit object is kept)
 * — and judges every resulting tree, as built, against `start`'s: one `git diff-tree --stdin` of
 * consecutive commits, fed to the incremental {@link TreeJudge}. What was built must be exactly what
 * the sandbox changed (same paths, old and new content and modes), else the commit "does not apply"
 * (the host's tree differs there, or the series lies about an object). Authors, author dates and
 * messages are kept byte for byte; the committer is `identity`.
 */
export async function applySeries(q: Quarantine, start: string, series: Buffer, identity: { name: string; email: string }, now = new Date()): Promise<AppliedSeries> {
  let parsed: ParsedSeries;
  try {
    parsed = parseSeries(series);
  } catch (e) {
    throw new AppError('results', (e as Error).message, { cause: e });
  }
  const { commits, blobs } = parsed;
  const stop = (i: number, why: string): string => `commit ${i + 1} of ${commits.length} ("${subject(commits[i] as SeriesCommit)}") does not apply: ${why}`;
  let upto = commits.length;
  let applyError: string | undefined;
  for (const [i, c] of commits.entries()) {
    const why = unbuildable(c, blobs);
    if (why === undefined) continue;
    upto = i;
    applyError = stop(i, why);
    break;
  }
  if (upto === 0) return { tip: start, commits: 0, problems: [], ...(applyError ? { applyError } : {}) };
  const marksFile = join(q.dir, 'marks');
  const { stream, blobMarks } = importStream(start, commits.slice(0, upto), blobs, identity, now);
  // unpackLimit 0: always one pack (no `unpack-objects` child), which migrate() moves as it is.
  await q.g(['-c', 'fastimport.unpackLimit=0', 'fast-import', '--quiet', '--done', '--date-format=raw', `--export-marks=${marksFile}`], { input: stream });
  const marks = new Map((await readFile(marksFile, 'latin1')).split('\n').map((l) => l.split(' ') as [string, string]));
  const built = commits.slice(0, upto).map((_, i) => marks.get(`:${commitMark(blobMarks, i)}`) as string);
  const pairs = built.map((c, i) => `${c} ${i === 0 ? start : (built[i - 1] as string)}\n`).join('');
  const landed = parseRawChanges(await q.g(['diff-tree', '--stdin', '-r', '-z', '--raw', '--no-renames'], { input: pairs }), built);
  const judge = new TreeJudge(
    async () => {
      const links = (await listTree(q.g, start)).filter((e) => e.mode === '120000');
      return linkTargets(q.g, links);
    },
    (oid) => (blobs.get(oid) ?? Buffer.alloc(0)).toString('latin1'),
  );
  let tip = start;
  for (const [i, c] of commits.slice(0, upto).entries()) {
    const changes = landed.get(built[i] as string) ?? [];
    const off = mismatch(c.changes, changes);
    if (off !== undefined) return { tip, commits: i, problems: judge.problems(), applyError: stop(i, `${off}: what it changes on the host differs from what it changed in the sandbox (the host's tree differs there, or the series names content it does not hold)`) };
    await judge.next(changes.map(judged));
    tip = built[i] as string;
  }
  return { tip, commits: applyError ? upto : commits.length, problems: judge.problems(), ...(applyError ? { applyError } : {}) };
}
