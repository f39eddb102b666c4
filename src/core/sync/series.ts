/**
 * The results series: what one collection in the sandbox prints (`collectSandboxResults`), and its
 * parser. Everything in it is hostile: the parser never guesses, and a frame that does not add up
 * is an error. Layout (version 2):
 *
 * ```
 * pcc-series 2 <commits> <changes> <blobs>\n    byte counts of the three sections that follow
 * <commits>  `git cat-file --batch` of the first-parent chain since the start, oldest first
 * <changes>  `git diff-tree --stdin -r --raw --no-renames` of each commit against the one before it on
 *            that chain (the start for the first): a `<commit>` line, then `:<modes> <oids> <st>\t<path>`
 *            lines, the path C-quoted by git when it holds a tab, newline, quote, backslash or non-ASCII
 * <blobs>    `git cat-file --batch` of every new-side blob those changes name
 * ```
 *
 * Each section is framed by git itself (sizes in `cat-file --batch`, one line per change with its
 * path quoted by git), and the sections by the byte counts of the first
 * line, so no message, path or file content can pose as structure. No tree or commit object of the
 * sandbox is ever kept: the host rebuilds every tree from these changes (`apply-series.ts`).
 *
 * Why changes and blobs, not diffs nor a pack: diffs need one `git apply` per commit on the host
 * (nothing applies a series to an index keeping each intermediate tree), and a pack brings the
 * sandbox's own trees, built on its start tree, which lacks what the upload left out — the trees
 * that land must be built on the host's start, and those are the trees judged.
 */

/** One changed path (`git diff-tree --raw`): modes and oids of both sides, the path as bytes (latin1). */
export interface RawChange {
  srcMode: string;
  dstMode: string;
  srcOid: string;
  dstOid: string;
  /** A, D, M or T (no renames or copies are asked for). */
  status: string;
  /** The path's bytes, one latin1 character per byte (what git wrote, exactly). */
  path: string;
}

/** One commit of a collected series: its author, message and changes (its tree is rebuilt). */
export interface SeriesCommit {
  oid: string;
  /** Name and email as bytes (latin1), date as `<seconds> <zone>`; all empty when the object has no author line. */
  author: { name: string; email: string; date: string };
  message: Buffer;
  changes: RawChange[];
}

/** A parsed series: its commits, oldest first, and the blobs their changes name. */
export interface ParsedSeries {
  commits: SeriesCommit[];
  blobs: Map<string, Buffer>;
}

const HEADER = /^pcc-series 2 (\d{1,15}) (\d{1,15}) (\d{1,15})$/;
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const META = /^:([0-7]{6}) ([0-7]{6}) ([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) ([ADMT])$/;
const AUTHOR = /^author (.*) <([^<>\n]*)> (\d{1,15} [+-]\d{4})$/m;

class Malformed extends Error {
  constructor(what: string) {
    super(`malformed results series: ${what}`);
  }
}

/** The records of a `git cat-file --batch` output: `<oid> <type> <size>\n<bytes>\n` or `<oid> missing\n`. */
export function parseBatch(buf: Buffer): Array<{ oid: string; type: string; data: Buffer }> {
  const out: Array<{ oid: string; type: string; data: Buffer }> = [];
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    if (nl < 0 || nl - at > 100) throw new Malformed(`object header at byte ${at}`);
    const fields = buf.subarray(at, nl).toString('latin1').split(' ');
    const [oid, type, size] = fields;
    if (oid === undefined || !OID.test(oid)) throw new Malformed(`object name at byte ${at}`);
    if (fields.length === 2 && type === 'missing') {
      out.push({ oid, type, data: Buffer.alloc(0) });
      at = nl + 1;
      continue;
    }
    if (fields.length !== 3 || !/^[a-z]{1,10}$/.test(type ?? '') || !/^\d{1,15}$/.test(size ?? '')) throw new Malformed(`object header at byte ${at}`);
    const start = nl + 1;
    const end = start + Number(size);
    if (end + 1 > buf.length || buf[end] !== 10) throw new Malformed(`object ${oid} is truncated`);
    out.push({ oid, type: type as string, data: buf.subarray(start, end) });
    at = end + 1;
  }
  return out;
}

/**
 * The changes of each commit as a parser of either layout meets them: a header must name one of
 * `order`'s commits, after the last one named; a record belongs to the header before it.
 */
class ChangesByCommit {
  readonly out = new Map<string, RawChange[]>();
  private next = 0;
  private current: RawChange[] | undefined;

  constructor(
    private readonly order: readonly string[],
    /** What the layout calls a header in errors ("header", "line"). */
    private readonly headerWord: string,
  ) {}

  header(text: string): void {
    const at = OID.test(text) ? this.order.indexOf(text, this.next) : -1;
    if (at < 0) throw new Malformed(`unexpected changes ${this.headerWord} ${JSON.stringify(text.slice(0, 80))}`);
    this.next = at + 1;
    this.current = [];
    this.out.set(text, this.current);
  }

  /** `where` names the record in the error when it has no header before it or no path. */
  record(m: RegExpExecArray, path: string | undefined, where: string): void {
    if (this.current === undefined || path === undefined || path === '') throw new Malformed(`change record ${where}`);
    this.current.push({ srcMode: m[1] as string, dstMode: m[2] as string, srcOid: m[3] as string, dstOid: m[4] as string, status: m[5] as string, path });
  }
}

/**
 * The changes of `git diff-tree --stdin -r -z --raw` per commit, for commits named in `order`
 * (headers must come in that order; a commit without changes has no header). The path is always
 * the record right after a `:` record, so a path can never be read as a header or a record.
 */
export function parseRawChanges(buf: Buffer, order: readonly string[]): Map<string, RawChange[]> {
  const changes = new ChangesByCommit(order, 'header');
  if (buf.length === 0) return changes.out;
  if (buf[buf.length - 1] !== 0) throw new Malformed('changes do not end with NUL');
  const tokens = buf.subarray(0, buf.length - 1).toString('latin1').split('\0');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const m = META.exec(t);
    if (m) {
      const path = tokens[++i];
      changes.record(m, path, String(i));
    } else changes.header(t);
  }
  return changes.out;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** A path as git prints it in a line (`core.quotePath`): raw, or C-quoted with octal bytes. Bytes as latin1. */
export function unquotePath(text: string): string {
  if (!text.startsWith('"')) return text;
  if (text.length < 2 || !text.endsWith('"')) throw new Malformed('unterminated quoted path');
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i] as string;
    if (c === '"') throw new Malformed('quote inside a quoted path');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = text[++i] ?? '';
    const oct = /^[0-3][0-7]{2}$/.exec(text.slice(i, i + 3));
    if (oct) {
      out += String.fromCharCode(parseInt(oct[0], 8));
      i += 2;
    } else if (e in ESCAPES && i < text.length - 1) out += String.fromCharCode(ESCAPES[e] as number);
    else throw new Malformed('bad escape in a quoted path');
  }
  return out;
}

/**
 * The changes of `git diff-tree --stdin -r --raw` (one line each, paths quoted) per commit, for
 * commits named in `order` (headers in that order; a commit without changes has none). A record is
 * `:<modes> <oids> <status>` and a tab, then its path; a header is a bare commit name; a path
 * that git did not quote has no tab, newline or quote in it, so no path can end a line or pose as one.
 */
export function parseQuotedChanges(buf: Buffer, order: readonly string[]): Map<string, RawChange[]> {
  const changes = new ChangesByCommit(order, 'line');
  if (buf.length === 0) return changes.out;
  if (buf[buf.length - 1] !== 10) throw new Malformed('changes do not end with a newline');
  for (const line of buf.subarray(0, buf.length - 1).toString('latin1').split('\n')) {
    const tab = line.indexOf('\t');
    const m = tab < 0 ? null : META.exec(line.slice(0, tab));
    if (m) changes.record(m, unquotePath(line.slice(tab + 1)), JSON.stringify(line.slice(0, 120)));
    else changes.header(line);
  }
  return changes.out;
}

/** Author, author date and message of a raw commit object (parsed only: the object is never kept). */
function commitParts(obj: Buffer): Pick<SeriesCommit, 'author' | 'message'> {
  const split = obj.indexOf('\n\n');
  // latin1: the author's name and email travel on as the very bytes of the object.
  const headers = (split < 0 ? obj : obj.subarray(0, split)).toString('latin1');
  const a = AUTHOR.exec(headers);
  return {
    author: { name: a?.[1] ?? '', email: a?.[2] ?? '', date: a?.[3] ?? '' },
    message: split < 0 ? Buffer.alloc(0) : obj.subarray(split + 2),
  };
}

/** Parses a collected series (see the module comment); throws on anything that does not add up. */
export function parseSeries(buf: Buffer): ParsedSeries {
  const nl = buf.indexOf(10);
  const head = nl < 0 || nl > 80 ? null : HEADER.exec(buf.subarray(0, nl).toString('latin1'));
  if (!head) throw new Malformed('no series header');
  const sizes = [Number(head[1]), Number(head[2]), Number(head[3])];
  const at = [nl + 1];
  for (const s of sizes) at.push((at[at.length - 1] as number) + s);
  if (at[3] !== buf.length) throw new Malformed(`sections add up to ${String((at[3] as number) - nl - 1)} bytes, ${buf.length - nl - 1} arrived`);
  const section = (k: number): Buffer => buf.subarray(at[k], at[k + 1]);
  const objects = parseBatch(section(0));
  for (const o of objects) if (o.type !== 'commit') throw new Malformed(`object ${o.oid} is a ${o.type}, not a commit`);
  const order = objects.map((o) => o.oid);
  if (new Set(order).size !== order.length) throw new Malformed('a commit appears twice');
  const changes = parseQuotedChanges(section(1), order);
  const blobs = new Map<string, Buffer>();
  for (const b of parseBatch(section(2))) if (b.type === 'blob') blobs.set(b.oid, b.data);
  return { commits: objects.map((o) => ({ oid: o.oid, ...commitParts(o.data), changes: changes.get(o.oid) ?? [] })), blobs };
}
