import { posix } from 'node:path';
import { AppError } from '../../errors.js';
import { git } from '../git.js';
import { run } from '../exec.js';

/** The agent's working folder when `--working-dir` is not given (spec 000). */
export const DEFAULT_WORKING_DIR = '/workspace';

/**
 * Folders a working directory may not be, or be below: the system the sandbox borrows from the host
 * (read-only there), the kernel's views, and the places our own files live (`/opt/parallel-cc`,
 * the agent's home, `/tmp`, which local sandboxes mount themselves).
 */
const RESERVED = ['/proc', '/sys', '/dev', '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot', '/run', '/var/run', '/tmp', '/opt/parallel-cc', '/home/agent', '/root'];

/**
 * Parses `--working-dir`: an absolute, normalized path (no `.`/`..` components, no `//`, no
 * trailing slash), not `/`, not below a reserved folder ({@link RESERVED}), printable ASCII-safe
 * (no control characters, no `:` — docker's bind syntax splits on it).
 */
export function parseWorkingDir(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const bad = (why: string): AppError => new AppError('usage', `--working-dir "${raw.replace(/[^\x20-\x7e]/g, '?')}" ${why}`, { hint: `Give an absolute folder such as ${DEFAULT_WORKING_DIR} or /src/app.` });
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f:\\]/.test(raw)) throw bad('contains a control character, ":" or "\\"');
  if (!raw.startsWith('/')) throw bad('is not an absolute path');
  if (raw.split('/').some((c) => c === '..' || c === '.')) throw bad('contains "." or ".." components');
  if (posix.normalize(raw) !== raw || (raw.length > 1 && raw.endsWith('/'))) throw bad(`is not normalized (write ${posix.normalize(raw).replace(/(.)\/$/, '$1')})`);
  if (raw === '/') throw bad('is the root folder');
  const under = RESERVED.find((r) => raw === r || raw.startsWith(`${r}/`));
  if (under) throw bad(`is ${raw === under ? '' : 'below '}${under}, which the sandbox reserves`);
  // An ancestor of a reserved folder (/opt, /home, /var) would put our own mounts inside the workspace.
  const over = RESERVED.find((r) => r.startsWith(`${raw}/`));
  if (over) throw bad(`contains ${over}, which the sandbox reserves`);
  if (raw.length > 200) throw bad('is longer than 200 characters');
  return raw;
}

/**
 * Parses `--branch` for repository `root`: a valid branch name (`git check-ref-format --branch`,
 * no leading `-`) that does not exist yet.
 */
export async function parseBranch(root: string, raw: string | undefined): Promise<string | undefined> {
  if (raw === undefined) return undefined;
  const shown = raw.replace(/[^\x20-\x7e]/g, '?');
  // check-ref-format --branch expands @{-1}-style names; a session branch is always a plain name.
  const valid = !raw.startsWith('-') && !raw.includes('@{') && raw !== '@' && (await run(['git', 'check-ref-format', '--branch', raw], { okCodes: [0, 1, 128] }).then((r) => r.exitCode === 0 && r.stdout.toString('utf8').trim() === raw));
  if (!valid) throw new AppError('usage', `--branch "${shown}" is not a valid branch name`, { hint: 'See `git check-ref-format --help`; e.g. --branch feature/login-form.' });
  const exists = await git(root, ['rev-parse', '--verify', '--quiet', `refs/heads/${raw}`], { okCodes: [0, 1] }).catch(() => '');
  if (exists !== '') throw new AppError('usage', `--branch ${shown} already exists in ${root}`, { hint: 'Pick a new name, or continue that branch with --worktree <name|path> if it is a session branch.' });
  return raw;
}

/**
 * Parses `--git-user`/`--git-email`, the identity of the agent's commits (default: the host's git
 * identity). No control characters and no `<`/`>` (they would forge the author line of a commit);
 * an email needs an `@`.
 */
export function parseGitIdentity(user: string | undefined, email: string | undefined, host: { name: string; email: string }): { name: string; email: string } | undefined {
  if (user === undefined && email === undefined) return undefined;
  for (const [flag, v] of [['--git-user', user], ['--git-email', email]] as const) {
    if (v === undefined) continue;
    // eslint-disable-next-line no-control-regex
    if (v.trim() === '' || /[\x00-\x1f\x7f<>]/.test(v)) throw new AppError('usage', `${flag} "${v.replace(/[^\x20-\x7e]/g, '?')}" is empty or contains a control character, "<" or ">"`, { hint: `Example: ${flag} ${flag === '--git-user' ? '"Review Bot"' : 'bot@example.com'}` });
  }
  if (email !== undefined && !/^[^@\s]+@[^@\s]+$/.test(email)) throw new AppError('usage', `--git-email "${email}" is not an email address`, { hint: 'Example: --git-email bot@example.com' });
  return { name: user ?? host.name, email: email ?? host.email };
}

/**
 * The session options a provider must support, checked once it is chosen (before anything is
 * created): `--working-dir` needs a provider whose working folder is ours to pick.
 */
export function checkSessionOptions(opts: { workdir?: string }, provider: { name: string; capabilities: { workdirChoice?: boolean } }): void {
  if (opts.workdir !== undefined && !provider.capabilities.workdirChoice)
    throw new AppError('usage', `--working-dir: the ${provider.name} provider fixes the agent's working folder`, { hint: 'Drop --working-dir, or use a provider that lets parallel-cc choose it (the local ones: native, docker).' });
}
