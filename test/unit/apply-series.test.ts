/**
 * The rebuild of a series on the host (sync/apply-series.ts) with real git: a constant number of
 * git processes whatever the number of commits (collect and import), authors and messages byte for
 * byte, empty commits kept, and refusals when what would be built is not what the sandbox changed
 * (a host file the upload left out, bytes that are not the named object, content missing) — with
 * nothing landed. Tampered series never fail with anything but a results error.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { importResults } from '../../src/core/sync/results.js';
import { git, tempDir } from '../helpers/git-repo.js';
import { IDENTITY, importRig, type ImportRig } from '../helpers/import-harness.js';

let rig: ImportRig | undefined;
afterEach(() => {
  rig?.cleanup();
  rig = undefined;
});

/** The three sections of a series, to tamper with and frame again. */
function sections(series: Buffer): Buffer[] {
  const nl = series.indexOf(10);
  const sizes = series.subarray(0, nl).toString().split(' ').slice(2).map(Number);
  let at = nl + 1;
  return sizes.map((s) => series.subarray(at, (at += s)));
}
const frame = (parts: Buffer[]): Buffer => Buffer.concat([Buffer.from(`pcc-series 2 ${parts.map((p) => p.length).join(' ')}\n`), ...parts]);

const importOf = (r: ImportRig, series: Buffer) => importResults({ worktreePath: r.worktree, sessionDir: r.sessionDir, mbox: series, identity: IDENTITY });

async function refusedWith(r: ImportRig, series: Buffer, pattern: RegExp): Promise<void> {
  const head = git(r.worktree, 'rev-parse', 'HEAD');
  const packs = (): string[] => readdirSync(join(r.repo, '.git', 'objects', 'pack'));
  const before = packs();
  await expect(importOf(r, series)).rejects.toThrow(pattern);
  expect(git(r.worktree, 'rev-parse', 'HEAD')).toBe(head);
  expect(git(r.worktree, 'status', '--porcelain')).toBe('');
  expect(packs()).toEqual(before);
  expect(readdirSync(r.sessionDir)).toEqual(['results.series']);
}

/** A `git` on PATH that logs every call, so a test can count the processes of a phase. */
function countingGit(): { count: () => number; restore: () => void } {
  const dir = tempDir('pcc-gitcount-');
  const log = join(dir, 'log');
  const real = git(dir, '--exec-path').replace(/\/[^/]+$/, '');
  const which = ['/usr/bin/git', '/usr/local/bin/git', `${real}/bin/git`].find((p) => existsSync(p)) as string;
  writeFileSync(join(dir, 'git'), `#!/bin/sh\necho x >> '${log}'\nexec '${which}' "$@"\n`);
  chmodSync(join(dir, 'git'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path ?? ''}`;
  return { count: () => (existsSync(log) ? readFileSync(log, 'utf8').length / 2 : 0), restore: () => void (process.env.PATH = path) };
}

describe('rebuilding a series on the host', () => {
  it('collects and imports 3 or 30 commits with the same number of git processes', async () => {
    const counts: Array<[number, number]> = [];
    for (const n of [3, 30]) {
      rig = await importRig();
      rig.agent(`for i in $(seq 1 ${n}); do echo $i > f$i.txt; mkdir -p d$i && echo $i > d$i/x; git add -A; git commit -qm "c $i"; done; ln -s f1.txt link; echo wip > wip.txt`);
      const c = countingGit();
      let collected: Buffer;
      let phases: [number, number];
      try {
        collected = await rig.collect();
        const afterCollect = c.count();
        const r = await importOf(rig, collected);
        phases = [afterCollect, c.count() - afterCollect];
        expect(r.commits).toBe(n + 1);
      } finally {
        c.restore();
      }
      expect(git(rig.worktree, 'rev-parse', 'HEAD^{tree}')).toBe(rig.sandboxTree());
      counts.push(phases);
      rig.cleanup();
      rig = undefined;
    }
    expect(counts[1]).toEqual(counts[0]);
    const [collect, imp] = counts[0] as [number, number];
    expect(collect).toBeGreaterThan(5);
    expect(imp).toBeGreaterThan(3);
    expect(imp).toBeLessThanOrEqual(10);
  });

  it('keeps authors, author dates and messages byte for byte (not UTF-8 too), empty commits, and makes the host the committer', async () => {
    rig = await importRig();
    rig.agent(`echo a > a && git add a && GIT_AUTHOR_DATE='1700000000 +0530' git -c i18n.commitEncoding=latin1 commit -q -m "$(printf 'caf\\351\\n\\ntrailing  \\n\\n')" --cleanup=verbatim --author="$(printf 'J\\366rg <jo@x>')"`);
    rig.agent(`git commit -q --allow-empty -m 'empty one' && echo b > b && git add b && git commit -qm b`);
    const r = await rig.land();
    expect(r.commits).toBe(3);
    const landed = git(rig.worktree, 'log', '--format=%H', '-3').split('\n').reverse();
    const sandbox = git(rig.sandbox, 'log', '--format=%H', '-3').split('\n').reverse();
    for (const [i, c] of landed.entries()) {
      const ours = execRaw(rig.worktree, c);
      const theirs = execRaw(rig.sandbox, sandbox[i] as string);
      expect(line(ours, 'author')).toEqual(line(theirs, 'author'));
      expect(body(ours)).toEqual(body(theirs));
      expect(line(ours, 'committer').toString()).toMatch(/^committer Host User <host@example\.com> \d+ [+-]\d{4}$/);
    }
    expect(line(execRaw(rig.worktree, landed[0] as string), 'author')).toEqual(Buffer.from('author J\xf6rg <jo@x> 1700000000 +0530', 'latin1'));
    expect(git(rig.worktree, 'log', '-1', '--skip=1', '--format=%s')).toBe('empty one');
  });

  it('lands names git quotes (tab, newline, quote, backslash, non-ASCII) byte for byte', async () => {
    rig = await importRig();
    // (A name that is not UTF-8 is refused: tree-check's pathProblem, test/unit/import.test.ts.)
    rig.agent(`printf 1 > "$(printf 'we\\tird\\nname')" && printf 2 > 'q"uo\\te' && printf 3 > "$(printf 'caf\\303\\251')" && printf 4 > 'é ü' && git add -A && git commit -qm names`);
    const r = await rig.land();
    expect(r.commits).toBe(1);
    expect(git(rig.worktree, 'rev-parse', 'HEAD^{tree}')).toBe(rig.sandboxTree());
  });

  it('refuses a change to a host file the upload left out, landing nothing', async () => {
    rig = await importRig();
    // On the host only (as a secret or an ignored-but-tracked file is): the sandbox never saw it.
    git(rig.worktree, 'config', 'user.name', 'T');
    git(rig.worktree, 'config', 'user.email', 't@x');
    writeFileSync(join(rig.worktree, 'host-only.txt'), 'the user\'s\n');
    git(rig.worktree, 'add', 'host-only.txt');
    git(rig.worktree, 'commit', '-qm', 'host only');
    rig.agent(`echo fine > ok.txt && git add ok.txt && git commit -qm ok && echo agent > host-only.txt && git add host-only.txt && git commit -qm clobber`);
    await refusedWith(rig, await rig.collect(), /^refused the agent's results: commit 2 of 2 \("clobber"\) does not apply: host-only\.txt: what it changes on the host differs/);
  });

  it('refuses bytes that are not the object the series names, and content the series does not hold', async () => {
    rig = await importRig();
    rig.agent(`printf 'twelve bytes' > f.txt && git add f.txt && git commit -qm f`);
    const [commits, changes, blobs] = sections(await rig.collect()) as [Buffer, Buffer, Buffer];
    const swapped = Buffer.from(blobs.toString('latin1').replace('twelve bytes', 'TWELVE BYTES'), 'latin1');
    await refusedWith(rig, frame([commits, changes, swapped]), /does not apply: f\.txt: what it changes on the host differs/);
    await refusedWith(rig, frame([commits, changes, Buffer.alloc(0)]), /does not apply: f\.txt: its content \([0-9a-f]+\) is missing from the series/);
  });

  it('never fails with anything but a results error on a tampered series', { timeout: 120_000 }, async () => {
    rig = await importRig({ 'README.md': '# r\n', 'x/y': 'y\n' });
    rig.agent(`echo a > a && ln -s x/y l && git add -A && git commit -qm one && git rm -q x/y && mkdir -p x/y && echo z > x/y/z && git add -A && git commit -qm two`);
    const series = await rig.collect();
    let seed = 11;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const [commits, changes, blobs] = sections(series) as [Buffer, Buffer, Buffer];
    for (let round = 0; round < 40; round++) {
      const parts = [Buffer.from(commits), Buffer.from(changes), Buffer.from(blobs)];
      const which = parts[Math.floor(rnd() * 3)] as Buffer;
      if (which.length > 0) which[Math.floor(rnd() * which.length)] = Math.floor(rnd() * 256);
      const head = git(rig.worktree, 'rev-parse', 'HEAD');
      try {
        await importOf(rig, frame(parts));
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        expect((e as AppError).kind).toBe('results');
        expect(git(rig.worktree, 'rev-parse', 'HEAD')).toBe(head);
      }
      git(rig.worktree, 'reset', '-q', '--hard', head);
    }
  });
});

/** A raw commit object, as bytes. */
const execRaw = (cwd: string, rev: string): Buffer => execFileSync('git', ['-C', cwd, 'cat-file', 'commit', rev]);
/** The header line `name …` of a raw commit object, as bytes. */
const line = (obj: Buffer, name: string): Buffer => {
  const head = obj.subarray(0, obj.indexOf('\n\n'));
  for (let at = 0; at < head.length; ) {
    const nl = head.indexOf(10, at) < 0 ? head.length : head.indexOf(10, at);
    if (head.subarray(at, at + name.length + 1).toString('latin1') === `${name} `) return head.subarray(at, nl);
    at = nl + 1;
  }
  return Buffer.alloc(0);
};
const body = (obj: Buffer): Buffer => obj.subarray(obj.indexOf('\n\n') + 2);
