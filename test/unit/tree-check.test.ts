import { describe, expect, it } from 'vitest';
import { checkTree, entryProblem, isGitDirName, linkProblem, pathProblem, type TreeEntry } from '../../src/core/sync/tree-check.js';

const f = (path: string, mode = '100644'): TreeEntry => ({ mode, oid: '0'.repeat(40), path });
const tree = (links: Record<string, string>) => ({ links: new Map(Object.entries(links)) });

describe('paths and modes', () => {
  it('refuses escapes, absolute paths and .git in every spelling a filesystem folds to it', () => {
    expect(pathProblem('src/a.ts')).toBeUndefined();
    expect(pathProblem('.gitignore')).toBeUndefined();
    expect(pathProblem('a/../../b')).toMatch(/escapes/);
    expect(pathProblem('/etc/passwd')).toMatch(/absolute/);
    expect(pathProblem('C:evil')).toMatch(/absolute/);
    for (const p of ['.git/config', 'sub/.GIT/hooks/x', '.git./x', '.git /x', 'GIT~1/x', '.g\u200cit/x', '.git::$INDEX_ALLOCATION/x', 'a\\.git\\x']) expect(pathProblem(p), p).toMatch(/\.git/);
    expect(isGitDirName('.github')).toBe(false);
  });

  it('refuses a path that is not UTF-8: every such byte reads as U+FFFD, so two names would be one', () => {
    const lossy = (bytes: number[]): string => Buffer.from(bytes).toString('utf8');
    expect(lossy([0x78, 0xfe])).toBe(lossy([0x78, 0xff]));
    for (const p of [lossy([0x78, 0xfe]), `src/${lossy([0xc3])}/a`, 'named\ufffd.txt']) expect(pathProblem(p), p).toMatch(/not UTF-8/);
    expect(pathProblem('caf\u00e9/\u65e5\u672c.md')).toBeUndefined();
    expect(linkProblem('l', tree({ l: Buffer.from('x\ufffd', 'utf8').toString('latin1') }))).toMatch(/U\+FFFD/);
  });

  it('accepts plain files, executables and links; refuses gitlinks, odd modes and .gitmodules', () => {
    expect(entryProblem(f('a'))).toBeUndefined();
    expect(entryProblem(f('a', '100755'))).toBeUndefined();
    expect(entryProblem(f('a', '120000'))).toBeUndefined();
    expect(entryProblem(f('sub', '160000'))).toMatch(/submodule/);
    expect(entryProblem(f('a', '100664'))).toMatch(/mode/);
    expect(entryProblem(f('x/.gitmodules'))).toMatch(/gitmodules/);
  });
});

describe('symlinks are judged by resolution through the tree', () => {
  it('accepts links that stay inside, however they get there', () => {
    const t = tree({ 'a/l': '../b', 'top': 'a/l', 'd/e/up': '../..', 'self': '.', 'x/y/z': '../../a' });
    for (const p of ['a/l', 'top', 'd/e/up', 'self', 'x/y/z']) expect(linkProblem(p, t), p).toBeUndefined();
  });

  it('refuses absolute, climbing, .git and empty targets', () => {
    const t = tree({ abs: '/etc/passwd', up: '../x', deep: 'a/b/../../../x', git: '.git/config', git2: 'a/../.GIT', empty: '' });
    expect(linkProblem('abs', t)).toMatch(/absolute/);
    expect(linkProblem('up', t)).toMatch(/outside/);
    expect(linkProblem('deep', t)).toMatch(/outside/);
    expect(linkProblem('git', t)).toMatch(/\.git/);
    expect(linkProblem('git2', t)).toMatch(/\.git/);
    expect(linkProblem('empty', t)).toMatch(/empty/);
  });

  it('follows links through links: lexically inside, physically outside', () => {
    // d1/d2/a resolves to the root; d1/d2/s = a/../x is lexically d1/d2/x but physically ../x.
    const t = tree({ 'd1/d2/a': '../..', 'd1/d2/s': 'a/../x' });
    expect(linkProblem('d1/d2/a', t)).toBeUndefined();
    expect(linkProblem('d1/d2/s', t)).toMatch(/outside/);
    // A chain that ends at an absolute link.
    const chain = tree({ l1: 'l2', l2: 'l3', l3: '/home' });
    expect(linkProblem('l1', chain)).toMatch(/absolute path \(\/home\) via l1 -> l2/);
  });

  it('accepts loops (they resolve nowhere, ELOOP) but not a loop-shaped chain that ends outside', () => {
    expect(linkProblem('a', tree({ a: 'b', b: 'a' }))).toBeUndefined();
    expect(linkProblem('a', tree({ a: 'a' }))).toBeUndefined();
    expect(linkProblem('a', tree({ a: 'b/../..', b: '.' }))).toMatch(/outside/);
  });

  it('judges a link that was fine at depth 30 and escapes after a rename to the top', () => {
    const deep = `${Array.from({ length: 30 }, (_, i) => `d${i}`).join('/')}/l`;
    const target = '../'.repeat(29) + 'x';
    expect(linkProblem(deep, tree({ [deep]: target }))).toBeUndefined();
    expect(linkProblem('l', tree({ l: target }))).toMatch(/outside/);
  });

  it('checkTree judges only what changed, but resolves through unchanged links', () => {
    const entries = [f('vendor', '120000'), f('ok', '120000'), f('src/a.ts')];
    const targets = new Map([
      ['vendor', '/opt/vendor'],
      ['ok', 'src/a.ts'],
    ]);
    expect(checkTree(entries, targets, new Set(['ok', 'src/a.ts']))).toEqual([]);
    const viaVendor = [...entries, f('sneak', '120000')];
    const t2 = new Map([...targets, ['sneak', 'vendor/../x']]);
    expect(checkTree(viaVendor, t2, new Set(['sneak']))).toEqual([{ path: 'sneak', problem: expect.stringMatching(/absolute.*via sneak -> vendor\/\.\.\/x/) as string }]);
  });
});

describe('non-ASCII names in links', () => {
  // Targets are bytes (latin1 strings), paths are UTF-8 text: the walk must match them.
  const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

  it('follows a link named in UTF-8 from a target naming it (a climb through `é` is seen)', () => {
    const t = tree({ 'd/é': bytes('..'), 'd/x': bytes('é/../..') });
    expect(linkProblem('d/é', t)).toBeUndefined();
    expect(linkProblem('d/x', t)).toMatch(/outside the repository/);
    expect(linkProblem('d/y', tree({ 'd/é': bytes('..'), 'd/y': bytes('é/a') }))).toBeUndefined();
  });

  it('refuses a target that is not UTF-8, and finds .git spelled with an ignorable code point in a target', () => {
    expect(linkProblem('l', tree({ l: '\xff/x' }))).toMatch(/not UTF-8/);
    expect(linkProblem('l', tree({ l: bytes('.g\u200cit/config') }))).toMatch(/\.git/);
  });
});
