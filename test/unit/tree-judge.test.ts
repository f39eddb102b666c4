/**
 * The incremental tree judge (sync/tree-judge.ts) against the full check it replaces
 * (`checkTreeAgainst` of every tree against the start): on random chains of commits built with
 * real git — files, executables, gitlinks, links inside and out, links through links, `..` and
 * `.git` entries, type changes, deletions, also in the start tree — both find the same problems in
 * the same order after every commit.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTreeAgainst, gitRunner, linkTargets, listTree } from '../../src/core/sync/git-tree.js';
import { parseRawChanges } from '../../src/core/sync/series.js';
import type { TreeProblem } from '../../src/core/sync/tree-check.js';
import { TreeJudge } from '../../src/core/sync/tree-judge.js';
import { tempDir } from '../helpers/git-repo.js';
import { prng } from '../helpers/prng.js';

const NAMES = ['a', 'b', 'c', 'a', 'b', 'a', 'b', '..', '.git', 'é'];

/** A fast-import stream of a root commit and `n` more, random changes each; blob contents by mark. */
function randomChain(rnd: () => number, n: number): { stream: string; contents: Map<number, string> } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const path = (): string => Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(NAMES)).join('/');
  const target = (): string => {
    const r = rnd();
    if (r < 0.08) return pick(['/etc', '', '.git/config']);
    return Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(['..', '.', 'a', 'b', 'a', 'b', 'c', 'é'])).join('/');
  };
  const contents = new Map<number, string>();
  const known: string[] = [];
  let mark = 0;
  let out = '';
  const commitOps = (): string => {
    let ops = '';
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
      const r = rnd();
      if (r < 0.2 && known.length > 0) {
        ops += `D ${pick(known)}\n`;
        continue;
      }
      const p = path();
      known.push(p);
      const mode = r < 0.5 ? '120000' : r < 0.85 ? pick(['100644', '100755']) : r < 0.95 ? '100644' : '160000';
      if (mode === '160000') {
        ops += `M 160000 ${'1'.repeat(40)} ${p}\n`;
        continue;
      }
      const data = mode === '120000' ? target() : `content ${rnd()}\n`;
      mark += 1;
      contents.set(mark, data);
      out += `blob\nmark :${mark}\ndata ${Buffer.byteLength(data)}\n${data}\n`;
      ops += `M ${mode} :${mark} ${p}\n`;
    }
    return ops;
  };
  const commits: string[] = [];
  for (let c = 0; c <= n; c++) commits.push(commitOps());
  commits.forEach((ops, c) => {
    out += `commit refs/heads/main\nmark :${100000 + c}\ncommitter T <t@x> ${c} +0000\ndata 1\n${c}\n${ops}\n`;
  });
  return { stream: out, contents };
}

async function oneChain(seed: number): Promise<number> {
  const rnd = prng(seed);
  const dir = tempDir('pcc-judge-');
  const gitDir = join(dir, 'r.git');
  execFileSync('git', ['init', '-q', '--bare', gitDir]);
  const n = 1 + Math.floor(rnd() * 6);
  const { stream, contents } = randomChain(rnd, n);
  execFileSync('git', [`--git-dir=${gitDir}`, 'fast-import', '--quiet', `--export-marks=${join(dir, 'marks')}`], { input: stream });
  const marks = new Map(readFileSync(join(dir, 'marks'), 'utf8').trim().split('\n').map((l) => [Number(l.split(' ')[0]?.slice(1)), l.split(' ')[1] as string]));
  const byOid = new Map([...contents].map(([m, data]) => [marks.get(m) as string, data]));
  const chain = Array.from({ length: n + 1 }, (_, c) => marks.get(100000 + c) as string);
  const g = gitRunner(gitDir);
  const startTree = (await g(['rev-parse', `${chain[0] as string}^{tree}`])).toString().trim();
  const pairs = chain.slice(1).map((c, i) => `${c} ${chain[i] as string}\n`).join('');
  const changes = parseRawChanges(await g(['diff-tree', '--stdin', '-r', '-z', '--raw', '--no-renames'], { input: pairs }), chain.slice(1));
  const judge = new TreeJudge(
    async () => linkTargets(g, (await listTree(g, chain[0] as string)).filter((e) => e.mode === '120000')),
    (oid) => Buffer.from(byOid.get(oid) ?? '', 'utf8').toString('latin1'),
  );
  const full = new Map<string, TreeProblem>();
  for (const c of chain.slice(1)) {
    for (const p of await checkTreeAgainst(g, startTree, c)) if (!full.has(`${p.path}\0${p.problem}`)) full.set(`${p.path}\0${p.problem}`, p);
    const step = (changes.get(c) ?? []).map((r) => ({
      path: Buffer.from(r.path, 'latin1').toString('utf8'),
      src: { mode: r.srcMode, oid: r.srcOid },
      dst: { mode: r.dstMode, oid: r.dstOid },
    }));
    await judge.next(step);
    expect(judge.problems(), `seed ${seed}, commit ${c}`).toEqual([...full.values()]);
  }
  return full.size;
}

describe('incremental tree judgement equals the full check of every tree', () => {
  it('on 50 random chains', { timeout: 180_000 }, async () => {
    let withProblems = 0;
    for (let s = 0; s < 50; s++) if ((await oneChain(20261201 + s)) > 0) withProblems++;
    // The generator reaches both outcomes.
    expect(withProblems).toBeGreaterThan(5);
    expect(withProblems).toBeLessThan(50);
  });
});
