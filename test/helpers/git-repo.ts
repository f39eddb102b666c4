import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { track } from './temp.js';

/** Runs git in a folder (test helper; argv only). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Creates a temp folder, removed when the test file ends (test/setup/cleanup.ts). */
export function tempDir(prefix = 'pcc-test-'): string {
  return track(mkdtempSync(join(tmpdir(), prefix)));
}

/** Writes files (creating folders) below a root. */
export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A fresh repository with an identity and one commit of `files`. */
export function makeRepo(files: Record<string, string | Buffer> = { 'README.md': '# test\n' }): string {
  const root = tempDir('pcc-repo-');
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'config', 'user.name', 'Test User');
  git(root, 'config', 'user.email', 'test@example.com');
  writeFiles(root, files);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'initial');
  return root;
}
