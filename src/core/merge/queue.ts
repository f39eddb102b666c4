import { AppError } from '../../errors.js';
import { shellJoin } from '../../providers/remote/quote.js';
import type { Session } from '../../store/sessions.js';
import type { Context } from '../context.js';
import { git, gitIdentity, repoRoot } from '../git.js';
import { withRegistry } from '../registry.js';
import { buildMerged, type MergeStrategy } from './build.js';
import { checkInSandbox, type CheckResult } from './check.js';
import { branchTip, checkedOutAt, currentBranch, isAncestor, uncommitted, type WorktreeEntry } from './refs.js';
import { selectSessions } from './select.js';

/** What `parallel-cc merge` asks for. */
export interface MergeRequest {
  sessions: string[];
  group?: string;
  into?: string;
  strategy?: MergeStrategy;
  /** A command line run with `sh -c` inside a sandbox on each merged result before it lands. */
  check?: string;
  dryRun?: boolean;
  /** The check's provider (default: the repo's default provider). */
  provider?: string;
}

/** What happened to one session of the queue. */
export interface MergeStep {
  sessionId: string;
  taskId: string | null;
  branch: string | null;
  action: 'merged' | 'would merge' | 'already merged' | 'skipped' | 'conflict' | 'check failed' | 'not reached';
  /** The commit that landed (or would land). */
  commit?: string;
  conflicts?: string[];
  check?: CheckResult;
  reason?: string;
}

/** What the queue did. */
export interface MergeOutput {
  repo: string;
  into: string;
  strategy: MergeStrategy;
  dryRun: boolean;
  /** The target's tip before and after. */
  before: string;
  after: string;
  steps: MergeStep[];
  /** Where the queue stopped, and the commands that resolve it by hand (paste them as they are). */
  stopped?: { sessionId: string; reason: string; commands: string[] };
  /** Things the user must know: the checked-out branch was moved, and how. */
  notices: string[];
}

/** The commands that merge a conflicting session by hand (each one line, quoted for a POSIX shell). */
export function resolveCommands(repo: string, into: string, s: Session, strategy: MergeStrategy, checkout: WorktreeEntry | undefined, conflicts: string[]): string[] {
  const branch = s.branch as string;
  const g = (dir: string, ...args: string[]): string => shellJoin(['git', '-C', dir, ...args]);
  const files = conflicts.length ? conflicts : ['<the conflicted files>'];
  // The names come from commits the sandbox wrote: in the comment line (meant to be pasted) each is
  // a JSON string, so a newline or quote in a file name cannot start a command of its own.
  const named = files.map((f) => JSON.stringify(f)).join(', ');
  if (strategy === 'rebase' && s.worktreePath) {
    return [g(s.worktreePath, 'rebase', into), `# edit ${named} in ${s.worktreePath} (remove the <<<<<<< ======= >>>>>>> markers), then:`, g(s.worktreePath, 'add', '--', ...files), shellJoin(['env', 'GIT_EDITOR=true', 'git', '-C', s.worktreePath, 'rebase', '--continue']), shellJoin(['parallel-cc', 'merge', s.id, '--into', into, '--strategy', 'rebase'])];
  }
  const tmp = `${repo}-merge-${s.id}`;
  const dir = checkout?.path ?? tmp;
  const open = checkout ? [] : [g(repo, 'worktree', 'add', tmp, into)];
  const close = checkout ? [] : [g(repo, 'worktree', 'remove', tmp)];
  const merge = strategy === 'squash' ? g(dir, 'merge', '--squash', branch) : g(dir, 'merge', '--no-ff', '--no-edit', branch);
  const commit = strategy === 'squash' ? g(dir, 'commit', '-m', `${branch} (session ${s.id}), squashed`) : g(dir, 'commit', '--no-edit');
  return [...open, merge, `# edit ${named} in ${dir} (remove the <<<<<<< ======= >>>>>>> markers), then:`, g(dir, 'add', '--', ...files), commit, ...close];
}

/**
 * The merge queue (`parallel-cc merge`): lands session branches on a target one after the other (a
 * group in dependency order). Each is previewed and built from git objects (build.ts), checked
 * inside a sandbox when `check` is given, and landed with `update-ref <new> <old>` only when it
 * passes. The first conflict or failed check stops the queue with what to do. A target checked out
 * in a worktree is moved only when that worktree is clean, fast-forward only, and the output says so.
 */
export async function mergeQueue(req: MergeRequest, ctx: Context): Promise<MergeOutput> {
  return withRegistry(ctx, async (sessions) => {
    const list = selectSessions(sessions, req.sessions, req.group);
    const repo = await repoRoot((list[0] as Session).repoPath);
    const into = req.into ?? (await currentBranch(repo));
    const strategy = req.strategy ?? 'merge';
    const dry = req.dryRun === true;
    const before = await branchTip(repo, into);
    if (!before) throw new AppError('usage', `--into ${into}: no such branch in ${repo}`, { hint: `Create it first (\`git -C ${repo} branch ${into}\`) or name an existing branch.` });
    const checkout = await checkedOutAt(repo, into);
    if (checkout) {
      const dirty = await uncommitted(checkout.path);
      if (dirty.length > 0)
        throw new AppError('usage', `${into} is checked out in ${checkout.path} with uncommitted changes (${dirty.slice(0, 5).map((l) => l.slice(3)).join(', ')}${dirty.length > 5 ? ', …' : ''}): refusing to merge into it`, { hint: 'Commit or stash them first, or merge into another branch with --into.' });
    }
    const identity = await gitIdentity(repo);
    const steps: MergeStep[] = [];
    const notices: string[] = [];
    let tip = before;
    let stopped: MergeOutput['stopped'];
    for (const s of list) {
      const base = { sessionId: s.id, taskId: s.taskId, branch: s.branch };
      if (stopped) {
        steps.push({ ...base, action: 'not reached' });
        continue;
      }
      const sessionTip = s.branch ? await branchTip(repo, s.branch) : undefined;
      if (!s.branch || !sessionTip) {
        steps.push({ ...base, action: 'skipped', reason: 'no branch (the session brought no commits back)' });
        continue;
      }
      if (await isAncestor(repo, sessionTip, tip)) {
        steps.push({ ...base, action: 'already merged', reason: `every commit of ${s.branch} is in ${into}` });
        continue;
      }
      const title = `parallel-cc: ${s.taskId ? `${s.taskId} ` : ''}(session ${s.id})${s.promptExcerpt ? ` ${s.promptExcerpt.split('\n')[0]?.slice(0, 60) ?? ''}` : ''}`;
      const built = await buildMerged({ repo, into: tip, intoName: into, tip: sessionTip, branch: s.branch, strategy, identity, title });
      if (!built.clean) {
        const reason = `${s.branch} conflicts with ${into} in ${built.conflicts.join(', ') || 'its history'}`;
        steps.push({ ...base, action: 'conflict', conflicts: built.conflicts, reason });
        stopped = { sessionId: s.id, reason, commands: resolveCommands(repo, into, s, strategy, checkout, built.conflicts) };
        continue;
      }
      if (dry) {
        steps.push({ ...base, action: 'would merge', commit: built.commit, ...(req.check ? { reason: `--check not run (--dry-run)` } : {}) });
        tip = built.commit;
        continue;
      }
      let check: CheckResult | undefined;
      if (req.check !== undefined) {
        check = await checkInSandbox(ctx, repo, built.commit, req.check, req.provider ? { provider: req.provider } : {});
        if (!check.passed) {
          const reason = `--check failed on the merged result (exit ${String(check.exitCode)} in a ${check.provider} sandbox): ${s.branch} was not merged`;
          steps.push({ ...base, action: 'check failed', check, reason });
          stopped = { sessionId: s.id, reason, commands: [shellJoin(['git', '-C', repo, 'diff', `${into}...${s.branch}`]), shellJoin(['parallel-cc', 'merge', s.id, '--into', into, '--strategy', strategy, '--check', req.check])] };
          continue;
        }
      }
      await land(repo, into, built.commit, tip, checkout, s.id);
      if (checkout) notices.push(`${into} is checked out in ${checkout.path}: it was fast-forwarded to ${built.commit.slice(0, 12)} (its working tree updated, like \`git merge --ff-only\`)`);
      sessions.update(s.id, { mergedInto: into, mergedCommit: built.commit, mergedAt: ctx.now().toISOString() });
      steps.push({ ...base, action: 'merged', commit: built.commit, ...(check ? { check } : {}) });
      tip = built.commit;
    }
    return { repo, into, strategy, dryRun: dry, before, after: dry ? before : tip, steps, ...(stopped ? { stopped } : {}), notices: [...new Set(notices)] };
  });
}

/**
 * Moves the target to `next` only if it is still at `prev` (another process may have moved it). A
 * target checked out in a worktree is fast-forwarded there (index and files follow).
 */
async function land(repo: string, into: string, next: string, prev: string, checkout: WorktreeEntry | undefined, id: string): Promise<void> {
  const hint = 'Someone else moved the branch meanwhile: run `parallel-cc merge` again.';
  if (!checkout) {
    await git(repo, ['update-ref', '-m', `parallel-cc merge ${id}`, `refs/heads/${into}`, next, prev], { errorKind: 'agent', hint });
    return;
  }
  const head = await git(checkout.path, ['rev-parse', 'HEAD']);
  if (head !== prev || (await uncommitted(checkout.path)).length > 0) throw new AppError('agent', `${into} in ${checkout.path} changed while merging: stopped before moving it`, { hint });
  await git(checkout.path, ['merge', '--ff-only', '--quiet', next], { errorKind: 'agent', hint });
}
