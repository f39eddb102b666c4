import { chmodSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPatchSeries, pathProblem, symlinkProblem, unquoteGitPath } from '../../src/core/sync/patch-check.js';
import { git, makeRepo, writeFiles } from '../helpers/git-repo.js';

const formatPatch = (root: string, range: string): string =>
  git(root, 'format-patch', '--stdout', '--pretty=mboxrd', '--binary', '--full-index', '-M', '-k', '--src-prefix=a/', '--dst-prefix=b/', range) + '\n';

describe('checkPatchSeries on real git output', () => {
  it('accepts renames, deletions, mode changes, binaries, inside symlinks and odd names', () => {
    const root = makeRepo({ 'a.txt': 'a\n'.repeat(20), 'gone.txt': 'bye\n', 'run.sh': 'echo hi\n' });
    const base = git(root, 'rev-parse', 'HEAD');
    git(root, 'mv', 'a.txt', 'renamed.txt');
    git(root, 'rm', '-q', 'gone.txt');
    chmodSync(join(root, 'run.sh'), 0o755);
    writeFiles(root, { 'bin.dat': Buffer.from([0, 1, 2, 255, 0, 7]), 'dir/héllo wörld.txt': 'unicode\n', 'content.md': '--- a/../../etc/passwd\n+++ b/.git/config\ndiff --git a/x b/../y\n' });
    symlinkSync('renamed.txt', join(root, 'link'));
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'second');
    writeFileSync(join(root, 'renamed.txt'), 'changed\n');
    git(root, 'commit', '-qam', 'third\n\nFrom the body: a line starting with From');
    const s = checkPatchSeries(formatPatch(root, `${base}..HEAD`));
    expect(s.problems).toEqual([]);
    expect(s.commits).toBe(2);
    expect(s.files).toEqual(expect.arrayContaining(['a.txt', 'renamed.txt', 'gone.txt', 'run.sh', 'bin.dat', 'dir/héllo wörld.txt', 'link', 'content.md']));
  });

  it('refuses a symlink pointing outside the repository', () => {
    const root = makeRepo();
    const base = git(root, 'rev-parse', 'HEAD');
    symlinkSync('/etc/passwd', join(root, 'pw'));
    symlinkSync('../../outside', join(root, 'up'));
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'links');
    const s = checkPatchSeries(formatPatch(root, `${base}..HEAD`));
    expect(s.problems.map((p) => p.path).sort()).toEqual(['pw', 'up']);
    expect(s.problems[0]?.problem).toMatch(/symlink/);
  });

  it('refuses submodule entries', () => {
    const root = makeRepo();
    const base = git(root, 'rev-parse', 'HEAD');
    git(root, 'update-index', '--add', '--cacheinfo', `160000,${base},sub`);
    git(root, 'commit', '-q', '-m', 'submodule');
    rmSync(join(root, 'sub'), { force: true, recursive: true });
    const s = checkPatchSeries(formatPatch(root, `${base}..HEAD`));
    expect(s.problems).toEqual([{ path: 'sub', problem: 'submodule entries are not accepted' }]);
  });
});

describe('checkPatchSeries on crafted input', () => {
  const patch = (header: string, body = ''): string =>
    `From ${'a'.repeat(40)} Mon Sep 17 00:00:00 2001\nFrom: x <x@y>\nSubject: evil\n\n---\n${header}\n${body}`;

  it('refuses ../ paths, absolute paths and .git paths in every header form', () => {
    const cases = [
      'diff --git a/../x b/../x\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/../x\n@@ -0,0 +1 @@\n+hi',
      'diff --git a/.git/hooks/pre-commit b/.git/hooks/pre-commit\nnew file mode 100755',
      'diff --git a/ok b/ok\nsimilarity index 100%\nrename from ok\nrename to ../../escape',
      'diff --git "a/\\056git/config" "b/\\056git/config"\nnew file mode 100644',
      'diff --git a/x b/x\n--- a/x\n+++ /abs/path',
      'diff --git a/.GIT/config b/.GIT/config\nnew file mode 100644',
    ];
    for (const c of cases) expect(checkPatchSeries(patch(c)).problems.length, c).toBeGreaterThan(0);
  });

  it('does not read hunk content as headers', () => {
    const body = 'diff --git a/notes.md b/notes.md\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/notes.md\n@@ -0,0 +3 @@\n++++ b/../../etc/passwd\n+diff --git a/.git/x b/.git/x\n+rename to ../y\n';
    expect(checkPatchSeries(patch(body)).problems).toEqual([]);
  });
});

describe('path helpers', () => {
  it('unquotes C-style git paths', () => {
    expect(unquoteGitPath('"a/h\\303\\251 \\"q\\"\\t.txt" rest')).toEqual({ path: 'a/hé "q"\t.txt', rest: ' rest' });
  });
  it('classifies paths and symlink targets', () => {
    expect(pathProblem('src/a.ts')).toBeUndefined();
    expect(pathProblem('a/../../b')).toMatch(/escapes/);
    expect(pathProblem('sub/.git/config')).toMatch(/\.git/);
    expect(pathProblem('/etc/passwd')).toMatch(/absolute/);
    expect(symlinkProblem('a/link', '../b')).toBeUndefined();
    expect(symlinkProblem('a/link', '../../b')).toMatch(/outside/);
    expect(symlinkProblem('link', '/etc/passwd')).toMatch(/absolute/);
  });
});
