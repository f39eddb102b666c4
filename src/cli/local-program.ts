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
        const [{ withRegistry }, { registerLocal }, path] = await Promise.all([import('../core/registry.js'), import('../core/local/sessions.js'), import('node:path')]);
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
        const [{ withRegistry }, local] = await Promise.all([import('../core/registry.js'), import('../core/local/sessions.js')]);
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
        const [{ withRegistry }, local] = await Promise.all([import('../core/registry.js'), import('../core/local/sessions.js')]);
        // A heartbeat from a process without a session is not an error: hooks also run in plain claude.
        const s = await withRegistry(ctx, (sessions) => local.heartbeatLocal(sessions, pid, ctx.now()));
        return { value: { sessionId: s?.id ?? null }, human: () => [] };
      }),
    );
  program
    .command('install')
    .description('set up the heartbeat hook, the claude → claude-parallel alias and the MCP server (idempotent)')
    .option('--hooks', 'the PostToolUse heartbeat hook in Claude settings')
    .option('--global', 'in ~/.claude/settings.json (default)')
    .option('--local', "in the repository's .claude/settings.json")
    .option('--alias', 'alias claude=claude-parallel in your shell rc')
    .option('--mcp', 'the parallel-cc MCP server in Claude settings')
    .option('--all', 'hooks, alias and MCP server')
    .option('--uninstall', 'remove exactly what install added (original bytes come back)')
    .option('--status', 'show what is installed')
    .option('--repo <path>', 'repository for --local', '.')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ hooks?: boolean; global?: boolean; local?: boolean; alias?: boolean; mcp?: boolean; all?: boolean; uninstall?: boolean; status?: boolean; repo: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const [{ install, installStatus, rcFilesFor }, path, { repoRoot }] = await Promise.all([import('../core/install/install.js'), import('node:path'), import('../core/git.js')]);
        const home = ctx.env.HOME;
        if (!home) throw new AppError('environment', 'HOME is not set; cannot find Claude settings or your shell rc');
        if (flags.global && flags.local) throw new AppError('usage', 'use either --global or --local, not both');
        const settingsFile = flags.local ? path.join(await repoRoot(path.resolve(ctx.cwd, flags.repo)), '.claude', 'settings.json') : path.join(home, '.claude', 'settings.json');
        const rcFiles = rcFilesFor(home, ctx.env.SHELL);
        if (flags.status) {
          const st = await installStatus([settingsFile], rcFiles);
          return { value: st, human: () => st.map((x) => `${x.installed ? '✓' : '✗'} ${x.what} (${x.file})`) };
        }
        const targets = { hooks: Boolean(flags.hooks || flags.all), alias: Boolean(flags.alias || flags.all), mcp: Boolean(flags.mcp || flags.all) };
        if (!targets.hooks && !targets.alias && !targets.mcp) throw new AppError('usage', 'say what to install: --hooks, --alias, --mcp or --all (or --status)');
        const changes = await install({ settingsFile, rcFiles, targets, uninstall: flags.uninstall === true });
        return { value: changes, human: () => changes.map((c) => `${c.action}: ${c.what} (${c.file})`) };
      }),
    );
  program
    .command('mcp-serve')
    .description('serve parallel-cc tools to an agent over MCP (stdio)')
    .action(async () => {
      const { serveMcp } = await import('../mcp/server.js');
      await serveMcp(ctx);
      setExit(0);
    });
  program
    .command('merge-status')
    .description('which session branches are merged into the base')
    .option('--repo <path>', 'repository', '.')
    .option('--base <ref>', 'base branch (default: the current branch)')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ repo: string; base?: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const { mergeStatus } = await import('../core/local/merges.js');
        const out = await mergeStatus(ctx, flags.repo, flags.base);
        return { value: out, human: () => (out.branches.length ? out.branches.map((b) => `${b.merged ? '✓ merged' : '· open  '} ${b.branch}${b.sessionId ? ` (session ${b.sessionId})` : ''}`) : ['No parallel-cc branches.']) };
      }),
    );
  program
    .command('watch-merges')
    .description('watch session branches and report when they are merged (--once: check once)')
    .option('--repo <path>', 'repository', '.')
    .option('--base <ref>', 'base branch (default: the current branch)')
    .option('--once', 'check once and exit')
    .option('--interval <seconds>', 'seconds between checks', '30')
    .option('--json', 'NDJSON on stdout')
    .action(
      act<{ repo: string; base?: string; once?: boolean; interval: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const { mergeStatus } = await import('../core/local/merges.js');
        const seen = new Set<string>();
        for (;;) {
          const out = await mergeStatus(ctx, flags.repo, flags.base);
          for (const b of out.branches.filter((x) => x.merged && !seen.has(x.branch))) {
            seen.add(b.branch);
            ctx.stdout.write(flags.json ? `${JSON.stringify(b)}\n` : `merged: ${b.branch} into ${out.base}\n`);
          }
          if (flags.once || ctx.signal.aborted) return { value: undefined, human: () => [], exitCode: 0 } as const;
          // Ctrl-C / SIGTERM ends the wait at once, not after the interval.
          await new Promise<void>((r) => {
            const t = setTimeout(done, Math.max(1, Number(flags.interval) || 30) * 1000);
            function done(): void {
              clearTimeout(t);
              ctx.signal.removeEventListener('abort', done);
              r();
            }
            ctx.signal.addEventListener('abort', done, { once: true });
          });
        }
      }),
    );
}
