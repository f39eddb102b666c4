import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import type { ConflictsFlags } from './commands/conflicts.js';
import type { MergeFlags } from './commands/merge.js';
import type { PrFlags } from './commands/pr.js';
import type { ResumeFlags } from './commands/resume.js';
import { toAppError } from '../errors.js';
import { heartbeatMs, Renderer } from './render.js';
import { act } from './ops-program.js';

/** Registers `merge`, `conflicts`, `pr` and `sandbox resume` (issue #23: landing and continuing the sessions' work). */
export function registerMergeCommands(program: Command, ctx: Context, setExit: (code: number) => void): void {
  program
    .command('merge')
    .description('land session branches on a branch one by one (a --multi group in dependency order): preview, check in a sandbox, then land; stops at the first conflict with the commands to resolve it')
    .argument('[sessions...]', 'session ids (or unique prefixes), merged in this order')
    .option('--group <id>', 'every session of a --multi batch, in dependency order')
    .option('--into <branch>', 'the target branch (default: the branch checked out in the repository)')
    .option('--strategy <how>', 'merge (a merge commit, default) | squash (one commit) | rebase (the commits replayed on top)')
    .option('--check <command>', 'a command line run with sh -c INSIDE A SANDBOX on each merged result; a branch lands only when it exits 0')
    .option('--provider <name>', 'the sandbox provider of --check (default: defaultProvider)')
    .option('--dry-run', 'only say what would happen: no check, nothing moved')
    .option('--json', 'one JSON document on stdout')
    .action(async (ids: string[], flags: MergeFlags) =>
      act<MergeFlags>(ctx, setExit, async () => {
        const m = await import('./commands/merge.js');
        const out = await m.mergeCommand(ids, flags, ctx);
        return { value: out, warnings: out.notices, exitCode: out.stopped ? 1 : 0, human: () => m.mergeLines(out) };
      })(flags),
    );
  program
    .command('conflicts')
    .description('which session branches touch the same files (and hunks), and whether they merge cleanly with each other and with the base; nothing is changed')
    .option('--group <id>', 'only the sessions of this --multi batch')
    .option('--repo <path>', 'the repository (default: the current folder)')
    .option('--base <branch>', 'check each branch against this (default: the checked-out branch)')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<ConflictsFlags>(ctx, setExit, async (flags) => {
        const c = await import('./commands/conflicts.js');
        const out = await c.conflictsCommand(flags, ctx);
        return { value: out, human: () => c.conflictsLines(out) };
      }),
    );
  program
    .command('pr')
    .description("push a session's branch and open a pull request with gh (installed and logged in), else print the exact push and the compare URL; nothing is pushed otherwise")
    .argument('<session>', 'session id or a unique prefix')
    .option('--remote <name>', 'the remote to push to', 'origin')
    .option('--title <text>', 'the title (default: the prompt\'s first line)')
    .option('--base <branch>', 'the branch to merge into (default: the session\'s base branch, else the checked-out one)')
    .option('--draft', 'open it as a draft')
    .option('--json', 'one JSON document on stdout')
    .action(async (session: string, flags: PrFlags) =>
      act<PrFlags>(ctx, setExit, async () => {
        const p = await import('./commands/pr.js');
        const out = await p.prCommand(session, flags, ctx);
        return { value: out, human: () => p.prLines(out) };
      })(flags),
    );
  const sandbox = program.commands.find((c) => c.name() === 'sandbox');
  sandbox
    ?.command('resume')
    .description("continue an ended session (completed, failed, timed out) in a new sandbox on the same branch, with the agent's conversation restored (claude)")
    .option('--session-id <id>', 'the session to continue')
    .option('--prompt <text>', 'what the agent should do next')
    .option('--prompt-file <path>', 'read it from a file')
    .option('--timeout <duration>', 'as for `sandbox run`')
    .option('--json', 'NDJSON events on stdout, diagnostics on stderr')
    .option('--no-stream', "do not print the agent's events live, only the summary")
    .action(async (flags: ResumeFlags) => {
      const renderer = new Renderer({ json: flags.json === true, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, progress: { heartbeatMs: heartbeatMs(ctx.env), signal: ctx.signal } });
      try {
        const out = await (await import('./commands/resume.js')).resumeCommand(flags, ctx, (e) => renderer.event(e, { stream: flags.stream !== false }));
        setExit(out.kind === 'run' ? out.summary.exitCode : 0);
      } catch (e) {
        const err = toAppError(e);
        renderer.error(err);
        setExit(err.exitCode);
      } finally {
        renderer.close();
      }
    });
}
