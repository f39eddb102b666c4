/**
 * The results series (sync/series.ts): its framing holds against forged input — sizes that do not
 * add up, trailing bytes, wrong object types, unknown or reordered headers, paths shaped like
 * records — and no byte string makes the parser fail with anything but a "malformed" error.
 */
import { describe, expect, it } from 'vitest';
import { parseBatch, parseQuotedChanges, parseRawChanges, parseSeries, unquotePath } from '../../src/core/sync/series.js';

const C1 = '1'.repeat(40);
const C2 = '2'.repeat(40);
const B1 = 'b'.repeat(40);
const Z = '0'.repeat(40);

const obj = (oid: string, type: string, data: Buffer | string): Buffer => {
  const d = Buffer.from(data);
  return Buffer.concat([Buffer.from(`${oid} ${type} ${d.length}\n`), d, Buffer.from('\n')]);
};
const commit = (msg: string, author = 'author A U Thor <a@x> 1700000000 +0100'): string => `tree ${'e'.repeat(40)}\nparent ${Z}\n${author}\ncommitter C <c@x> 1 +0000\n\n${msg}`;
const change = (path: string, dst = '100644', status = 'A', oid = B1): string => `:000000 ${dst} ${Z} ${oid} ${status}\0${path}\0`;
const line = (path: string, dst = '100644', status = 'A', oid = B1): string => `:000000 ${dst} ${Z} ${oid} ${status}\t${path}\n`;
const series = (commits: Buffer, changes: Buffer, blobs: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`pcc-series 2 ${commits.length} ${changes.length} ${blobs.length}\n`), commits, changes, blobs]);

const good = (): Buffer =>
  series(
    Buffer.concat([obj(C1, 'commit', commit('first\n\ndiff --git a/x b/y\n')), obj(C2, 'commit', commit('second'))]),
    Buffer.from(`${C1}\n${line('a.txt')}${line('"dir/b\\tc\\303\\251"', '120000')}${C2}\n${line(C1)}`, 'latin1'),
    Buffer.concat([obj(B1, 'blob', Buffer.from([0, 10, 255])), Buffer.from(`${'c'.repeat(40)} missing\n`)]),
  );

describe('results series framing', () => {
  it('reads commits, their changes and blobs; a message or path shaped like structure stays data', () => {
    const s = parseSeries(good());
    expect(s.commits.map((c) => c.oid)).toEqual([C1, C2]);
    expect(s.commits[0]?.message.toString()).toBe('first\n\ndiff --git a/x b/y\n');
    expect(s.commits[0]?.author).toEqual({ name: 'A U Thor', email: 'a@x', date: '1700000000 +0100' });
    expect(s.commits[0]?.changes.map((c) => [c.path, c.dstMode, c.status])).toEqual([
      ['a.txt', '100644', 'A'],
      ['dir/b\tc\xc3\xa9', '120000', 'A'],
    ]);
    // A path that is a commit id is the path of C2's change, not a header.
    expect(s.commits[1]?.changes.map((c) => c.path)).toEqual([C1]);
    expect([...s.blobs.keys()]).toEqual([B1]);
    expect(s.blobs.get(B1)).toEqual(Buffer.from([0, 10, 255]));
  });

  it('keeps author bytes that are not UTF-8 as they are (latin1, one character a byte)', () => {
    const raw = Buffer.concat([Buffer.from('tree x\nauthor J\xf6rg <j@x> 5 -0700\n\nm', 'latin1')]);
    const s = parseSeries(series(obj(C1, 'commit', raw), Buffer.alloc(0), Buffer.alloc(0)));
    expect(Buffer.from(s.commits[0]?.author.name ?? '', 'latin1')).toEqual(Buffer.from([0x4a, 0xf6, 0x72, 0x67]));
  });

  it('refuses sizes that do not add up, trailing bytes and a missing header', () => {
    const g = good();
    expect(() => parseSeries(g.subarray(0, g.length - 1))).toThrow(/malformed results series: sections add up/);
    expect(() => parseSeries(Buffer.concat([g, Buffer.from('x')]))).toThrow(/malformed/);
    expect(() => parseSeries(Buffer.from('commit 1 2 3\nxyz'))).toThrow(/no series header/);
    expect(() => parseSeries(Buffer.from(`pcc-series 2 ${'9'.repeat(15)} 0 0\n`))).toThrow(/malformed/);
  });

  it('refuses a commit section holding something else than commits, or the same commit twice', () => {
    expect(() => parseSeries(series(obj(C1, 'tree', 'x'), Buffer.alloc(0), Buffer.alloc(0)))).toThrow(/is a tree, not a commit/);
    expect(() => parseSeries(series(Buffer.from(`${C1} missing\n`), Buffer.alloc(0), Buffer.alloc(0)))).toThrow(/not a commit/);
    const twice = Buffer.concat([obj(C1, 'commit', commit('a')), obj(C1, 'commit', commit('a'))]);
    expect(() => parseSeries(series(twice, Buffer.alloc(0), Buffer.alloc(0)))).toThrow(/twice/);
  });

  it('refuses objects whose size runs past their section or past the terminating newline', () => {
    expect(() => parseBatch(Buffer.from(`${B1} blob 10\nabc\n`))).toThrow(/truncated/);
    expect(() => parseBatch(Buffer.from(`${B1} blob 2\nabc\n`))).toThrow(/truncated/);
    expect(() => parseBatch(Buffer.from(`${B1} blob -1\n\n`))).toThrow(/object header/);
    expect(() => parseBatch(Buffer.from(`nothex blob 1\na\n`))).toThrow(/object name/);
  });

  it('reads quoted paths byte for byte and refuses broken quoting', () => {
    expect(unquotePath('plain name')).toBe('plain name');
    expect(unquotePath('"a\\"b\\\\c\\n\\t\\001\\377"')).toBe('a"b\\c\n\t\x01\xff');
    for (const bad of ['"open', '"bad\\q"', '"a"b"', '"end\\"', '"\\400"', '"']) expect(() => unquotePath(bad), bad).toThrow(/malformed/);
  });

  it('refuses quoted change lines of unknown commits, records before any header, a missing final newline', () => {
    expect(() => parseQuotedChanges(Buffer.from(`${C2}\n${line('a')}`), [C1])).toThrow(/unexpected changes line/);
    expect(() => parseQuotedChanges(Buffer.from(line('a')), [C1])).toThrow(/change record/);
    expect(() => parseQuotedChanges(Buffer.from(`${C1}\n${line('a').slice(0, -1)}`), [C1])).toThrow(/newline/);
    expect(() => parseQuotedChanges(Buffer.from(`${C1}\n:000000 100644 ${Z} ${B1} A a\n`), [C1])).toThrow(/unexpected changes line/);
    // A path git would have quoted, unquoted: still one path (the tab after the record is the first).
    expect(parseQuotedChanges(Buffer.from(`${C1}\n${line('a\tb')}`), [C1]).get(C1)?.[0]?.path).toBe('a\tb');
  });

  it('refuses change headers of unknown commits, out of order, records before any header and a missing final NUL', () => {
    expect(() => parseRawChanges(Buffer.from(`${C2}\0${change('a')}`), [C1])).toThrow(/unexpected changes header/);
    expect(() => parseRawChanges(Buffer.from(`${C2}\0${C1}\0`), [C1, C2])).toThrow(/unexpected changes header/);
    expect(() => parseRawChanges(Buffer.from(change('a')), [C1])).toThrow(/change record/);
    expect(() => parseRawChanges(Buffer.from(`${C1}\0${change('a').slice(0, -1)}`), [C1])).toThrow(/NUL/);
    expect(() => parseRawChanges(Buffer.from(`${C1}\0:000000 100644 ${Z} ${B1} R100\0a\0`), [C1])).toThrow(/unexpected/);
    expect(() => parseRawChanges(Buffer.from(`${C1}\0:000000 100644 ${Z} ${B1} A\0\0`), [C1])).toThrow(/change record/);
  });

  it('never fails with anything but a malformed-series error, whatever the bytes (mutations of a valid series)', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const base = good();
    let parsed = 0;
    for (let round = 0; round < 3000; round++) {
      const b = Buffer.from(base);
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
        const at = Math.floor(rnd() * b.length);
        b[at] = rnd() < 0.3 ? [0, 10, 32, 58, 48][Math.floor(rnd() * 5)] as number : Math.floor(rnd() * 256);
      }
      const cut = rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      try {
        parseSeries(cut);
        parsed++;
      } catch (e) {
        expect((e as Error).message).toMatch(/^malformed results series: /);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
