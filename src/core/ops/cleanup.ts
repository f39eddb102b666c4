import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { homePaths, type Context } from '../context.js';
import { git } from '../git.js';
import { viewSession } from './view.js';
import { finishSession } from '../recover.js';
import { removeSessionWorktree } from '../worktree.js';
import type { SandboxProvider } from '../../providers/provider.js';
import { isTerminal, type Session } from '../../store/sessions.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from '../registry.js';
import { removeSandboxDir, sandboxDirOf } from '../sandbox-dir.js';
import { withReconnected } from './reconnect.js';
import { cleanSessionBranches } from '../merge/cleanup-branches.js';
import { removeExecLeftovers } from '../exec-leftovers.js';

/** What `parallel-cc cleanup` asks for. */
export interface CleanupRequest {
  dryRun?: boolean;
  /** Only remove ended sessions' branches (and worktrees) whose work is merged or on another branch. */
  merged?: boolean;
}

/** One thing cleanup found. */
export interface CleanupAction {
  kind: 'session' | 'worktree' | 'branch' | 'sandbox';
  target: string;
  action: 'finished' | 'removed' | 'would finish' | 'would remove' | 'kept';
  reason: string;
}

/** What cleanup did. */
export interface CleanupOutput {
  actions: CleanupAction[];
  dryRun: boolean;
  /** What the user must know: a billed sandbox that could not be destroyed. */
  warnings?: string[];
}

/** True when a session's sandbox outlived its CLI and the agent in it is still running. */
async function agentStillWorking(s: Session, provider: SandboxProvider | undefined): Promise<boolean> {
  if (!provider?.capabilities.survivesCli || !provider.isRunning) return false;
  const isRunning = provider.isRunning.bind(provider);
  const live = await withReconnected(s, { provider, tolerant: true }, (box) => isRunning(box, 'agent').catch(() => false));
  return live?.value ?? false;
}

const isDir = (p: string): Promise<boolean> =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );

/**
 * The cleanup use case (`parallel-cc cleanup`): finishes sessions whose CLI died (bringing their work back first), removes
 * leftover sandboxes, worktrees nobody owns, and session branches (with their worktrees) whose every
 * commit is on another branch or merged — and reports each. A worktree with uncommitted changes, a
 * branch with commits found nowhere else, and the user's own checkout are never touched.
 */
export async function cleanup(flags: CleanupRequest, ctx: Context): Promise<CleanupOutput> {
  const dry = flags.dryRun === true;
  const actions: CleanupAction[] = [];
  // What the user must know (a billed sandbox that could not be destroyed), printed whatever the mode.
  const warnings: string[] = [];
  await withRegistry(ctx, async (sessions) => {
    if (flags.merged) {
      actions.push(...(await cleanSessionBranches(sessions, sessions.list(), dry)));
      return;
    }
    const now = ctx.now();
    // 1. Orphaned sessions: their CLI is gone but the row says they run.
    for (const s of sessions.list({ statuses: ['pending', 'initializing', 'running'] })) {
      const v = viewSession(s, now);
      if (v.liveness === 'active') continue;
      const reason = v.livenessReason ?? 'orphaned';
      const provider = await providerFor(s, ctx);
      // A cloud agent outlives its CLI: while it still works, its session is not cleanup's to end.
      if (await agentStillWorking(s, provider)) {
        actions.push({ kind: 'session', target: s.id, action: 'kept', reason: `${reason}, but its agent is still working in ${s.provider} sandbox ${s.sandboxId ?? '?'}: follow it with \`sandbox logs --follow\`, end it with \`sandbox reattach\` or \`sandbox kill\`` });
        continue;
      }
      if (dry) actions.push({ kind: 'session', target: s.id, action: 'would finish', reason });
      else {
        const report = await finishSession(s, { sessions, provider, now: ctx.now }, {
          status: s.kind === 'local' ? 'completed' : 'failed',
          reason: s.kind === 'local' ? `released by cleanup: ${reason}` : `orphaned: ${reason}; finished by \`parallel-cc cleanup\``,
        });
        warnings.push(...(report.warnings ?? []));
        actions.push({
          kind: 'session',
          target: s.id,
          action: 'finished',
          reason: `${reason}; ${report.commits} commit(s) recovered${report.sandboxDestroyed ? ', sandbox removed' : ''}${report.worktreeKept ? '' : ', empty worktree removed'}`,
        });
      }
    }
    const all = sessions.list();
    const byId = new Map(all.map((s) => [s.id, s]));
    // 2. Sandboxes left behind by ended sessions (--no-cleanup, crashes) or by no session at all:
    // each session's recorded sandbox folder, then the old per-session `sandbox` folders.
    for (const s of all) {
      if (!s.sandboxDir || !isTerminal(s.status) || !(await isDir(s.sandboxDir))) continue;
      if (dry) actions.push({ kind: 'sandbox', target: s.sandboxDir, action: 'would remove', reason: `session ${s.id} ${s.status}` });
      else if (await removeSandboxDir(s.sandboxDir)) actions.push({ kind: 'sandbox', target: s.sandboxDir, action: 'removed', reason: `session ${s.id} ${s.status}` });
    }
    const sessionsDir = homePaths(ctx.home).sessions;
    for (const id of await readdir(sessionsDir).catch(() => [] as string[])) {
      const box = join(sessionsDir, id, 'sandbox');
      const s = byId.get(id);
      if (!(await isDir(box)) || (s && !isTerminal(s.status))) continue;
      if (dry) actions.push({ kind: 'sandbox', target: box, action: 'would remove', reason: s ? `session ${s.status}` : 'no session' });
      else {
        await rm(box, { recursive: true, force: true });
        actions.push({ kind: 'sandbox', target: box, action: 'removed', reason: s ? `session ${s.status}` : 'no session' });
      }
    }
    const providers = new Set(all.filter((s) => s.kind === 'sandbox').map((s) => s.provider));
    for (const name of providers) {
      const sample = all.find((s) => s.provider === name) as Session;
      const provider = await providerFor(sample, ctx);
      const listed = await provider?.listSandboxes?.().catch(() => []);
      for (const box of listed ?? []) {
        // Only sandboxes of sessions in this registry: another PARALLEL_CC_HOME may own the rest.
        const owner = byId.get(box.labels['parallel-cc.session'] ?? '');
        if (!owner || !isTerminal(owner.status)) continue;
        if (dry) actions.push({ kind: 'sandbox', target: box.id, action: 'would remove', reason: owner ? `session ${owner.status}` : 'no session' });
        else {
          const ownerDir = sandboxDirOf(owner);
          const handle = await provider?.reconnect?.(box.id, { sessionId: owner.id, ...(ownerDir ? { sandboxDir: ownerDir } : {}) });
          if (handle) await provider?.destroy(handle);
          actions.push({ kind: 'sandbox', target: box.id, action: handle ? 'removed' : 'kept', reason: handle ? `session ${owner?.status ?? 'gone'}` : 'cannot reconnect to remove it' });
        }
      }
    }
    // `sandbox exec` runs have no row: their folders say whose they are (core/exec-leftovers.ts).
    for (const left of await removeExecLeftovers(ctx, dry)) {
      const what = [left.dir, ...left.sandboxes].join(', ');
      actions.push({ kind: 'sandbox', target: what, action: dry ? 'would remove' : 'removed', reason: `sandbox exec whose CLI (pid ${left.pid}) is gone` });
    }
    // 3. Worktrees under our folder that no session claims, and branches that hold nothing.
    const claimed = new Set(all.map((s) => s.worktreePath).filter((p): p is string => p !== null));
    const wtDir = homePaths(ctx.home).worktrees;
    for (const name of await readdir(wtDir).catch(() => [] as string[])) {
      const path = join(wtDir, name);
      if (claimed.has(path)) continue;
      const common = await git(path, ['rev-parse', '--path-format=absolute', '--git-common-dir']).catch(() => undefined);
      const repo = common?.replace(/\/\.git$/, '');
      const dirty = repo ? await git(path, ['status', '--porcelain']).catch(() => 'unknown') : '';
      if (repo && dirty !== '') {
        actions.push({ kind: 'worktree', target: path, action: 'kept', reason: 'unclaimed but has uncommitted changes' });
        continue;
      }
      if (dry) actions.push({ kind: 'worktree', target: path, action: 'would remove', reason: 'no session claims it' });
      else if (repo && !(await removeSessionWorktree(repo, path))) {
        actions.push({ kind: 'worktree', target: path, action: 'kept', reason: 'unclaimed, and it changed meanwhile' });
      } else {
        if (!repo) await rm(path, { recursive: true, force: true });
        actions.push({ kind: 'worktree', target: path, action: 'removed', reason: 'no session claims it' });
      }
    }
    // 4. Session branches (and their worktrees) whose work is safe elsewhere (core/merge/cleanup-branches.ts).
    actions.push(...(await cleanSessionBranches(sessions, all, dry)));
  }, { create: false });
  return { actions, dryRun: dry, ...(warnings.length ? { warnings } : {}) };
}
