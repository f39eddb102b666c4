import { AppError } from '../errors.js';
import { run, runText, type RunOptions } from './exec.js';
import { keptUnlessFailed } from './memo.js';

/**
 * Options that keep the host repo's hooks and fsmonitor from running during parallel-cc's own git
 * operations: those are code execution, and nothing we do should trigger them implicitly.
 */
export const SAFE_GIT_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'] as const;

/** Runs git in `cwd` with hooks disabled, returning trimmed stdout. */
export function git(cwd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return runText(['git', ...SAFE_GIT_CONFIG, '-C', cwd, ...args], opts);
}

/** Runs git and returns raw stdout (for -z output and binary data). */
export async function gitRaw(cwd: string, args: readonly string[], opts: RunOptions = {}): Promise<Buffer> {
  return (await run(['git', ...SAFE_GIT_CONFIG, '-C', cwd, ...args], opts)).stdout;
}

/** Splits NUL-separated git output. */
export function splitZ(buf: Buffer | string): string[] {
  return buf.toString('utf8').split('\0').filter((s) => s.length > 0);
}

// A path's repository does not change while one command runs, and the CLI and the run both ask.
// Kept for a few seconds only: a long-lived process (MCP server, workflow serve) sees a new
// `git init` or a moved repository.
const roots = new Map<string, Promise<string>>();
const ROOT_KEEP_MS = 5_000;

/** Resolves the top level of the git repository containing `path`, or fails with a clear error. */
export function repoRoot(path: string): Promise<string> {
  return keptUnlessFailed(roots, path, () => lookUpRoot(path), ROOT_KEEP_MS);
}

async function lookUpRoot(path: string): Promise<string> {
  try {
    return await runText(['git', '-C', path, 'rev-parse', '--show-toplevel']);
  } catch (e) {
    if (e instanceof AppError && e.kind === 'environment') throw e;
    throw new AppError('usage', `${path} is not inside a git repository`, {
      hint: 'Pass --repo <path> pointing at a git checkout, or run `git init` and commit first.',
      cause: e,
    });
  }
}

/** Resolves a ref to a commit id, or fails with a clear usage error. */
export async function resolveCommit(root: string, ref: string): Promise<string> {
  try {
    return await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  } catch (e) {
    const hint =
      ref === 'HEAD'
        ? 'The repository has no commits yet: commit something first (parallel-cc branches from a commit).'
        : `Check the name with \`git -C ${root} rev-parse ${ref}\`.`;
    throw new AppError('usage', `cannot resolve ${ref === 'HEAD' ? 'HEAD' : `--base ${ref}`} to a commit in ${root}`, { hint, cause: e });
  }
}

/** The identity commits should carry: the host's git config, or a parallel-cc fallback. */
export async function gitIdentity(root: string): Promise<{ name: string; email: string }> {
  const get = async (key: string): Promise<string> => {
    try {
      return await git(root, ['config', '--get', key], { okCodes: [0] });
    } catch {
      return '';
    }
  };
  const [name, email] = await Promise.all([get('user.name'), get('user.email')]);
  return { name: name || 'parallel-cc agent', email: email || 'agent@parallel-cc.invalid' };
}
