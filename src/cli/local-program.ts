import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import { AppError } from '../errors.js';
import { act } from './ops-program.js';

type SetExit = (code: number) => void;

const pidOf = (raw: string | undefined): number => {
  const pid = Number(raw);
  if (!raw || !Number.isInteger(pid) || pid <= 0) throw new AppError('usage', `--pid must be a process id, got "${String(raw)}"`);
  return pid;
};

/** Registers register/release/heartbeat (used by claude-parallel and the hooks), install, mcp-serve, merge-status. */
export function registerLocalCommands(program: Command, ctx: Context, setExit: SetExit): void {
  program
    .command('register')
    .description('register a local claude session for a process (claude-parallel does this)')
    .option('--repo <path>', 'repository', '.')
    .option('--pid <pid>', 'the owning process')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ repo: string; pid?: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const pid = pidOf(flags.pid);
        const [{ withRegistry }, { registerLocal }, path] = await Promise.all([import('./commands/registry.js'), import('../core/local/sessions.js'), import('node:path')]);
        const claim = await withRegistry(ctx, (sessions) => registerLocal(sessions, ctx, path.resolve(ctx.cwd, flags.repo), pid), { create: true });
        return { value: claim, human: () => [claim.mode === 'main' ? `session ${claim.sessionId}: ${claim.path}` : `session ${claim.sessionId}: worktree ${claim.path} on ${claim.branch ?? ''}`] };
      }),
    );
  program
    .command('release')
    .description('release the local session of a process; an unchanged worktree is removed')
    .option('--pid <pid>', 'the owning process')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ pid?: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const pid = pidOf(flags.pid);
        const [{ withRegistry }, local] = await Promise.all([import('./commands/registry.js'), import('../core/local/sessions.js')]);
        const report = await withRegistry(ctx, async (sessions) => {
          const s = local.findLocalByPid(sessions, pid);
          if (!s) throw new AppError('not_found', `no running local session for pid ${pid}`);
          return local.releaseLocal(sessions, s, ctx.now());
        });
        return { value: report, human: () => [report.worktree ? `${report.kept ? 'kept' : 'removed'} ${report.worktree} (${report.reason})` : `released session ${report.sessionId}`] };
      }),
    );
  program
    .command('heartbeat')
    .description('mark the local session of a process (or of its parent claude) as alive')
    .option('--pid <pid>', 'the process (a hook passes $PPID)')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ pid?: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const pid = pidOf(flags.pid);
        const [{ withRegistry }, local] = await Promise.all([import('./commands/registry.js'), import('../core/local/sessions.js')]);
        // A heartbeat from a process without a session is not an error: hooks also run in plain claude.
        const s = await withRegistry(ctx, (sessions) => local.heartbeatLocal(sessions, pid, ctx.now()));
        return { value: { sessionId: s?.id ?? null }, human: () => [] };
      }),
    );
}
