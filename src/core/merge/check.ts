import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { SandboxHandle } from '../../providers/provider.js';
import { execCollect } from '../../providers/provider.js';
import type { Context } from '../context.js';
import { tail } from '../exec.js';
import { createSandboxDir, removeSandboxDir } from '../sandbox-dir.js';
import { exportCommit } from '../sync/export.js';
import { gitRunner } from '../sync/git-tree.js';
import { git } from '../git.js';

/** How a `--check` ended. */
export interface CheckResult {
  passed: boolean;
  exitCode: number | null;
  /** The end of its output (stdout and stderr), for the report. */
  output: string;
  provider: string;
}

/**
 * Runs the user's `--check` command line (`sh -c`, like the lifecycle hooks) on a merged commit
 * INSIDE A SANDBOX, never on the host: the commit's files are written from git objects into a
 * private folder (never from a worktree, whose links could point anywhere), uploaded into a fresh
 * sandbox of the repo's default provider, and the sandbox and the folder are removed after.
 */
export async function checkInSandbox(ctx: Context, repo: string, commit: string, command: string, opts: { provider?: string } = {}): Promise<CheckResult> {
  const { createProvider } = await import('../../providers/registry.js');
  const { config } = loadConfig({ home: ctx.home, repoRoot: repo, env: ctx.env });
  const name = opts.provider ?? config.defaultProvider;
  const provider = await createProvider(name, ctx.env, config);
  await provider.checkAvailable();
  const gitDir = await git(repo, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  const sandboxDir = await createSandboxDir(ctx.env);
  const files = await mkdtemp(join(sandboxDir, 'check-'));
  let sandbox: SandboxHandle | undefined;
  try {
    const tree = join(files, 'tree');
    const exported = await exportCommit(gitRunner(gitDir), commit, tree, { verb: 'check' });
    const entries = await Promise.all(
      exported.files.map(async (path) => {
        const st = await lstat(join(tree, path));
        return { path, kind: st.isSymbolicLink() ? ('symlink' as const) : ('file' as const), size: st.size };
      }),
    );
    sandbox = await provider.create({ sessionId: `m${randomBytes(4).toString('hex')}`, sandboxDir, bridges: {}, labels: { 'parallel-cc.session': 'merge-check' } });
    if (entries.length > 0) await provider.upload(sandbox, { root: tree, files: entries });
    const r = await execCollect(provider, sandbox, { argv: ['sh', '-c', command] });
    const output = tail(`${r.stdout.toString('utf8')}${r.stderr}`, 1000);
    return { passed: r.exitCode === 0, exitCode: r.exitCode, output, provider: name };
  } finally {
    if (sandbox) await provider.destroy(sandbox).catch(() => undefined);
    await rm(files, { recursive: true, force: true }).catch(() => undefined);
    await removeSandboxDir(sandboxDir).catch(() => undefined);
  }
}
