import type { SandboxProvider } from '../../providers/provider.js';
import type { RunRequest, SessionOptions } from '../../core/run-request.js';
import { checkSessionOptions, parseBranch, parseGitIdentity, parseWorkingDir } from '../../core/run-options/checks.js';
import { focusPhase } from '../../core/run-options/focus-phase.js';
import { resolveWorktree } from '../../core/run-options/worktree.js';
import { gitIdentity } from '../../core/git.js';
import type { SessionRepository } from '../../store/sessions.js';
import { AppError } from '../../errors.js';

/** The `sandbox run` flags of #27 (spec 000/001/003), as commander hands them over. */
export interface SessionFlags {
  workingDir?: string;
  worktree?: string;
  includeDirty?: boolean;
  branch?: string;
  gitUser?: string;
  gitEmail?: string;
  uploadRepo?: boolean;
  focusPhase?: string;
  base?: string;
  promptFile?: string;
}

/** Flags of one session that `--multi` refuses (each task has its own branch and prompt). */
const SINGLE_ONLY: Array<[keyof SessionFlags, string]> = [
  ['worktree', '--worktree'],
  ['includeDirty', '--include-dirty'],
  ['branch', '--branch'],
  ['focusPhase', '--focus-phase'],
];

/** Refuses the single-session flags with `--multi`. */
export function rejectSingleOnlyFlags(flags: SessionFlags): void {
  const used = SINGLE_ONLY.filter(([k]) => flags[k] !== undefined).map(([, name]) => name);
  if (used.length) throw new AppError('usage', `${used.join(', ')} ${used.length > 1 ? 'apply' : 'applies'} to one session, not to --multi`, { hint: 'Each --multi task gets its own branch; run the session on its own with `sandbox run`.' });
}

/** `--focus-phase <n>`: the prompt file's phase n (it needs `--prompt-file`). */
export function focusPrompt(flags: SessionFlags, prompt: string | undefined): string | undefined {
  if (flags.focusPhase === undefined) return prompt;
  if (flags.promptFile === undefined || prompt === undefined) throw new AppError('usage', '--focus-phase needs --prompt-file', { hint: 'Example: --prompt-file PLAN.md --focus-phase 2' });
  return focusPhase(prompt, flags.focusPhase, flags.promptFile);
}

/** The session options `--multi` shares with a single run (`--working-dir`, `--git-user`/`--git-email`, `--upload-repo`); the provider checks them with {@link checkSessionOptions}. */
export async function sessionOptions(flags: SessionFlags, root: string): Promise<SessionOptions> {
  const workdir = parseWorkingDir(flags.workingDir);
  // The host's identity fills in the half not given (read only then: two git processes otherwise spent).
  const half = (flags.gitUser === undefined) !== (flags.gitEmail === undefined);
  const gitId = parseGitIdentity(flags.gitUser, flags.gitEmail, half ? await gitIdentity(root) : { name: '', email: '' });
  return { ...(workdir ? { workdir } : {}), ...(gitId ? { gitIdentity: gitId } : {}), ...(flags.uploadRepo ? { uploadRepo: true } : {}) };
}

/**
 * Everything of #27 a single run adds to its request, validated before anything is created:
 * the session options, `--branch` (valid, new) and `--worktree` (an idle session worktree, clean
 * unless `--include-dirty`; it sets the base to its branch tip).
 */
export async function sessionRequest(flags: SessionFlags, o: { root: string; cwd: string; provider: SandboxProvider; sessions: SessionRepository }): Promise<Partial<RunRequest>> {
  if (flags.includeDirty && flags.worktree === undefined) throw new AppError('usage', '--include-dirty needs --worktree', { hint: 'Without --worktree the run always starts from your uncommitted work (unless --base is given).' });
  if (flags.worktree !== undefined && flags.base !== undefined) throw new AppError('usage', '--worktree and --base cannot be combined', { hint: 'A continued worktree starts from its own branch tip.' });
  if (flags.worktree !== undefined && flags.branch !== undefined) throw new AppError('usage', '--worktree and --branch cannot be combined', { hint: 'A continued worktree keeps its branch.' });
  const options = await sessionOptions(flags, o.root);
  checkSessionOptions(options, o.provider);
  const branch = await parseBranch(o.root, flags.branch);
  const worktree = flags.worktree !== undefined ? await resolveWorktree(o.root, flags.worktree, { cwd: o.cwd, sessions: o.sessions, includeDirty: flags.includeDirty === true }) : undefined;
  return { ...options, ...(branch ? { branch } : {}), ...(worktree ? { worktree, base: worktree.head } : {}) };
}
