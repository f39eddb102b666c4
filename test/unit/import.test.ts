import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { importResults } from '../../src/core/sync/results.js';
import { IDENTITY, importRig, type ImportRig } from '../helpers/import-harness.js';

let rig: ImportRig | undefined;
afterEach(() => {
  rig?.cleanup();
  rig = undefined;
});

const tipTree = (r: ImportRig): string => git(r.worktree, 'rev-parse', 'HEAD^{tree}');

describe('import pipeline (real git: sandbox-side collection, quarantine, tree judgement)', () => {
  it('lands exactly the sandbox tree: renames, deletions, modes, binaries, inside links, odd names, uncommitted work', async () => {
    rig = await importRig({ 'a.txt': 'a\n'.repeat(20), 'gone.txt': 'bye\n', 'run.sh': 'echo hi\n' });
    rig.agent(`git mv a.txt renamed.txt && git rm -q gone.txt && chmod +x run.sh && printf '\\000\\001\\377' > bin.dat && mkdir -p 'dir' && echo u > 'dir/héllo wörld.txt' && ln -s renamed.txt link && git add -A && git commit -qm 'second'`);
    rig.agent(`echo changed > renamed.txt && git commit -qam 'third' -m 'From the body: a line starting with From' && echo wip > wip.txt`);
    const r = await rig.land();
    expect(r.commits).toBe(3);
    expect(tipTree(rig)).toBe(rig.sandboxTree());
    expect(r.files.sort()).toEqual(['a.txt', 'bin.dat', 'dir/héllo wörld.txt', 'gone.txt', 'link', 'renamed.txt', 'run.sh', 'wip.txt']);
    expect(git(rig.worktree, 'log', '--format=%s|%an', '-3')).toBe('parallel-cc: uncommitted work|Host User\nthird|Host User\nsecond|Host User');
    expect(git(rig.worktree, 'log', '-1', '--skip=1', '--format=%b')).toBe('From the body: a line starting with From');
    expect(readFileSync(join(rig.worktree, 'wip.txt'), 'utf8')).toBe('wip\n');
  });

  it('ignores the config the agent wrote: format.headers, noprefix, fsmonitor, hooks never change or run anything', async () => {
    rig = await importRig();
    rig.agent(
      [
        `git config format.headers 'Content-Transfer-Encoding: base64'`,
        `git config diff.noprefix true`,
        `git config core.fsmonitor 'touch FSMONITOR_RAN; false'`,
        `git config core.hooksPath hooks && mkdir hooks && printf '#!/bin/sh\\ntouch HOOK_RAN\\n' > hooks/pre-commit && chmod +x hooks/pre-commit`,
        `git config include.path /etc/hostname`,
        `echo content > f.txt && git add f.txt && git commit -q --no-verify -m 'subject' -m "$(printf 'diff --git a/x b/y\\nrename from f.txt\\nrename to ../../escape\\n@@ -1 +1 @@\\n+x')"`,
        // The agent's own git ran its fsmonitor; ours must not.
        `rm -f FSMONITOR_RAN`,
      ].join(' && '),
    );
    const r = await rig.land();
    expect(existsSync(join(rig.sandbox, 'FSMONITOR_RAN'))).toBe(false);
    expect(existsSync(join(rig.sandbox, 'HOOK_RAN'))).toBe(false);
    expect(tipTree(rig)).toBe(rig.sandboxTree());
    expect(r.files.sort()).toEqual(['f.txt', 'hooks/pre-commit']);
    expect(git(rig.worktree, 'log', '-2', '--format=%B')).toContain('rename to ../../escape');
  });

  it('collecting while the agent works leaves its HEAD, index and config as they were', async () => {
    rig = await importRig();
    rig.agent(`echo staged > s.txt && git add s.txt && echo unstaged > u.txt`);
    const before = rig.agent('git rev-parse HEAD; git status --porcelain; cat .git/config; ls .git');
    const mbox = await rig.collect();
    expect(mbox.toString()).toContain('s.txt');
    expect(rig.agent('git rev-parse HEAD; git status --porcelain; cat .git/config; ls .git')).toBe(before);
  });

  const refused = async (r: ImportRig, pattern: RegExp): Promise<void> => {
    const head = git(r.worktree, 'rev-parse', 'HEAD');
    const objects = (): number => readdirSync(join(r.repo, '.git', 'objects')).length;
    const count = objects();
    await expect(r.land()).rejects.toThrow(pattern);
    expect(git(r.worktree, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(r.worktree, 'status', '--porcelain')).toBe('');
    expect(objects()).toBe(count);
    expect(existsSync(join(r.sessionDir, 'results.series'))).toBe(true);
    expect(readdirSync(r.sessionDir)).toEqual(['results.series']);
  };

  it('refuses an absolute link, a climbing link and a link through a link, keeping the series', async () => {
    rig = await importRig();
    rig.agent(`ln -s /etc/passwd pw && git add pw && git commit -qm pw`);
    await refused(rig, /pw: symlink to an absolute path/);
    rig.cleanup();
    rig = await importRig();
    rig.agent(`mkdir -p d1/d2 && ln -s ../.. d1/d2/a && ln -s a/../x d1/d2/s && git add -A && git commit -qm chain`);
    await refused(rig, /d1\/d2\/s: symlink pointing outside/);
  });

  it('refuses names that are not UTF-8: two links that differ only there would be one path to the judge', async () => {
    // Whichever order git lists them in, the escaping link must not hide behind the harmless one.
    for (const [out, harmless] of [['376', '377'], ['377', '376']]) {
      rig?.cleanup();
      rig = await importRig();
      rig.agent(`ln -s ../../../../../etc "$(printf 'x\\${out}')" && ln -s README.md "$(printf 'x\\${harmless}')" && git add -A && git commit -qm links`);
      await refused(rig, /path that is not UTF-8/);
    }
  });

  it('refuses a link that was fine at depth 30 once a 100% rename moves it to the top', async () => {
    rig = await importRig();
    const deep = Array.from({ length: 30 }, (_, i) => `d${i}`).join('/');
    rig.agent(`mkdir -p ${deep} && ln -s ${'../'.repeat(29)}x ${deep}/l && git add -A && git commit -qm deep`);
    rig.agent(`git mv ${deep}/l l && git commit -qm 'move it up'`);
    await refused(rig, /^refused the agent's results: l: symlink pointing outside/);
  });

  it('refuses an intermediate commit that a later one repairs (history lands too)', async () => {
    rig = await importRig();
    rig.agent(`ln -s /home h && git add h && git commit -qm 'bad' && git rm -q h && git commit -qm 'undo'`);
    await refused(rig, /h: symlink to an absolute path/);
  });

  it('refuses gitlinks and .gitmodules, and forged trees with .git entries', async () => {
    rig = await importRig();
    rig.agent(`git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),sub && printf '[submodule "s"]\\n\\tpath = sub\\n\\turl = ../x\\n' > .gitmodules && git add .gitmodules && git commit -qm sub`);
    await refused(rig, /\.gitmodules: submodule configuration[\s\S]*sub: submodule \(gitlink\)/);
    rig.cleanup();
    rig = await importRig();
    const forge = `blob=$(echo pwned | git hash-object -w --stdin); t=$(printf '100644 blob %s\\tconfig\\n' $blob | git mktree --missing); top=$( (git ls-tree HEAD; printf '040000 tree %s\\t.GIT\\n' $t) | git mktree --missing); c=$(git commit-tree $top -p HEAD -m forged); git update-ref HEAD $c`;
    rig.agent(forge);
    await refused(rig, /\.GIT/);
  });

  it('writes nothing outside the worktree when a link out is followed by a file below it', async () => {
    rig = await importRig();
    const outside = join(rig.root, 'outside');
    rig.agent(`ln -s ${outside} l && git add l && git commit -qm link && git rm -q l && mkdir l && echo x > l/pwned && git add -A && git commit -qm file`);
    await refused(rig, /symlink to an absolute path/);
    expect(existsSync(outside)).toBe(false);
  });
});

describe('concurrent imports into one repository (--multi)', () => {
  it('two tasks landing identical objects at once both succeed, every time', async () => {
    rig = await importRig();
    const r = rig;
    // Many identical objects, so the two migrations race on the same object names.
    r.agent(`for i in $(seq 1 200); do echo "same $i" > f$i.txt; done; git add -A && git commit -qm many`);
    const series = await r.collect();
    for (let round = 0; round < 5; round++) {
      const wts = [0, 1].map((k) => {
        const wt = join(r.root, `wt-${round}-${k}`);
        git(r.repo, 'worktree', 'add', '-q', '-b', `parallel-cc/c${round}${k}`, wt, 'HEAD');
        const sessionDir = join(r.root, `s-${round}-${k}`);
        mkdirSync(sessionDir);
        return { wt, sessionDir };
      });
      const landed = await Promise.all(wts.map((w) => importResults({ worktreePath: w.wt, sessionDir: w.sessionDir, mbox: series, identity: IDENTITY })));
      expect(landed.map((l) => l.commits)).toEqual([1, 1]);
      for (const w of wts) {
        expect(git(w.wt, 'rev-parse', 'HEAD^{tree}')).toBe(r.sandboxTree());
        expect(git(w.wt, 'status', '--porcelain')).toBe('');
        git(r.repo, 'worktree', 'remove', '--force', w.wt);
      }
    }
    expect(git(r.repo, 'fsck', '--no-dangling')).toBe('');
  });
});
