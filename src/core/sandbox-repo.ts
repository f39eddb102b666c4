import { AppError } from '../errors.js';
import { execCollect, type SandboxHandle, type SandboxProvider } from '../providers/provider.js';

/** Message of the commit that captures what the agent left uncommitted. */
export const UNCOMMITTED_MESSAGE = 'parallel-cc: uncommitted work';

// The sandbox repo is agent-controlled by the time we collect; these keep its config from changing
// what format-patch prints (prefixes, signatures) or running anything (hooks, external diff).
const PLUMBING = ['-c', 'core.hooksPath=/dev/null', '-c', 'diff.noprefix=false', '-c', 'diff.external=', '-c', 'commit.gpgsign=false', '-c', 'core.quotePath=true'];

async function gitIn(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  args: string[],
  okCodes: number[] = [0],
): Promise<{ exitCode: number | null; stdout: Buffer }> {
  const r = await execCollect(provider, sandbox, { argv: ['git', ...PLUMBING, ...args], env: { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' } });
  if (r.exitCode === null || !okCodes.includes(r.exitCode)) {
    throw new AppError('agent', `git ${args[0] ?? ''} failed in the sandbox (exit ${String(r.exitCode ?? r.signal)}): ${r.stderr.trim()}`, {
      details: { args },
    });
  }
  return r;
}

/**
 * The branch of the sandbox's own repo: fixed, never the session's `parallel-cc/<id>` — the agent
 * sees it (claude even sends it to the model in its git status), and the session id names the
 * session's folders on the host.
 */
export const SANDBOX_BRANCH = 'parallel-cc/work';

/**
 * Turns the uploaded files into a fresh git repository inside the sandbox: its own history (one
 * commit of exactly what was uploaded), never a view of the host's .git. Returns the start commit,
 * recorded on the host so the agent cannot move it.
 */
export async function initSandboxRepo(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  opts: { identity: { name: string; email: string }; baseLabel: string },
): Promise<string> {
  await gitIn(provider, sandbox, ['init', '--quiet', `--initial-branch=${SANDBOX_BRANCH}`]);
  await gitIn(provider, sandbox, ['config', 'user.name', opts.identity.name]);
  await gitIn(provider, sandbox, ['config', 'user.email', opts.identity.email]);
  await gitIn(provider, sandbox, ['add', '--all']);
  await gitIn(provider, sandbox, ['commit', '--quiet', '--no-verify', '--allow-empty', '-m', `parallel-cc: start from ${opts.baseLabel}`]);
  return (await gitIn(provider, sandbox, ['rev-parse', 'HEAD'])).stdout.toString('utf8').trim();
}

/**
 * Collects the agent's work as a patch series: anything left uncommitted becomes one extra commit,
 * then every commit since `startCommit` is exported with `git format-patch` (binary-safe, renames,
 * modes, mboxrd quoting). The host validates the series before applying it.
 */
export async function collectSandboxResults(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  opts: { startCommit: string; identity: { name: string; email: string } },
): Promise<Buffer> {
  const id = ['-c', `user.name=${opts.identity.name}`, '-c', `user.email=${opts.identity.email}`];
  // A crashed agent may leave a stale lock behind; the index is ours to rebuild. (Each command is a
  // sandbox round trip, so the lock is only removed when it is in the way.)
  const added = await gitIn(provider, sandbox, ['add', '--all'], [0, 128]);
  if (added.exitCode === 128) {
    await execCollect(provider, sandbox, { argv: ['rm', '-f', '.git/index.lock'] });
    await gitIn(provider, sandbox, ['add', '--all']);
  }
  // Exit 1 is "nothing to commit" (fatal errors exit 128): the agent left nothing uncommitted.
  await gitIn(provider, sandbox, [...id, 'commit', '--quiet', '--no-verify', '-m', UNCOMMITTED_MESSAGE], [0, 1]);
  const patches = await gitIn(provider, sandbox, [
    'format-patch',
    '--stdout',
    '--pretty=mboxrd',
    '--binary',
    '--full-index',
    '--find-renames',
    '--keep-subject',
    '--no-signature',
    '--no-stat',
    '--src-prefix=a/',
    '--dst-prefix=b/',
    `${opts.startCommit}..HEAD`,
  ]);
  return patches.stdout;
}
