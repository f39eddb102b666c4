/**
 * A host repository with a session worktree, and a "sandbox" folder holding the same files as its
 * own repository (initialised by the real sandbox-side script): enough to run the real collection
 * and import pipeline with real git, quickly, without a sandbox.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { collectSandboxResults, initSandboxRepo } from '../../src/core/sandbox-repo.js';
import { importResults, type ImportedResults } from '../../src/core/sync/results.js';
import { dirProvider } from './dir-provider.js';
import { git, makeRepo, tempDir, writeFiles } from './git-repo.js';

export const IDENTITY = { name: 'Host User', email: 'host@example.com' };

/** One host + sandbox pair. */
export interface ImportRig {
  root: string;
  repo: string;
  worktree: string;
  sessionDir: string;
  sandbox: string;
  sandboxStart: string;
  /** Runs a shell command as the "agent" in the sandbox folder. */
  agent(command: string): string;
  collect(): Promise<Buffer>;
  /** Collects and imports; resolves with what landed or rejects with the refusal. */
  land(): Promise<ImportedResults>;
  /** The tree of everything in the sandbox now, committed or not (without touching its repo). */
  sandboxTree(): string;
  cleanup(): void;
}

/** Creates a rig whose repo and sandbox both start with `files`. */
export async function importRig(files: Record<string, string | Buffer> = { 'README.md': '# r\n' }): Promise<ImportRig> {
  const root = tempDir('pcc-import-');
  const repo = makeRepo(files);
  const worktree = join(root, 'wt');
  git(repo, 'worktree', 'add', '-q', '-b', 'parallel-cc/test', worktree, 'HEAD');
  const sessionDir = join(root, 'session');
  mkdirSync(sessionDir);
  const sandbox = join(root, 'sbx');
  mkdirSync(sandbox);
  writeFiles(sandbox, files);
  const { provider, handle } = dirProvider(sandbox);
  const sandboxStart = await initSandboxRepo(provider, handle, { identity: IDENTITY, baseLabel: 'test' });
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', HOME: `${sandbox}.home` };
  const collect = (): Promise<Buffer> => collectSandboxResults(provider, handle, { startCommit: sandboxStart, identity: IDENTITY });
  return {
    root,
    repo,
    worktree,
    sessionDir,
    sandbox,
    sandboxStart,
    agent: (command) => execFileSync('sh', ['-c', command], { cwd: sandbox, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    collect,
    land: async () => importResults({ worktreePath: worktree, sessionDir, mbox: await collect(), identity: IDENTITY }),
    sandboxTree: () => {
      const idx = join(root, 'probe-index');
      const e = { ...env, GIT_INDEX_FILE: idx };
      execFileSync('git', ['-c', 'core.fsmonitor=false', 'read-tree', 'HEAD'], { cwd: sandbox, env: e });
      execFileSync('git', ['-c', 'core.fsmonitor=false', 'add', '-A'], { cwd: sandbox, env: e });
      const t = execFileSync('git', ['write-tree'], { cwd: sandbox, env: e, encoding: 'utf8' }).trim();
      rmSync(idx, { force: true });
      return t;
    },
    cleanup: () => {
      git(repo, 'worktree', 'remove', '--force', worktree);
      for (const d of [root, repo, `${sandbox}.home`]) rmSync(d, { recursive: true, force: true });
    },
  };
}
