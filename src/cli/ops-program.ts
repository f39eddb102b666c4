// Command modules are imported when their command runs: start-up pays only for what it uses.
import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/ops/view.js';
import { AppError, toAppError } from '../errors.js';
import type { CleanupFlags } from './commands/cleanup.js';
import type { DoctorFlags } from './commands/doctor.js';
import type { DownloadFlags } from './commands/download.js';
import type { ExecFlags } from './commands/exec.js';
import type { HealthFlags } from './commands/health.js';
import type { KillFlags } from './commands/kill.js';
import type { LogsFlags } from './commands/logs.js';
import type { StatusFlags } from './commands/status.js';
import { humanBytes, plural } from '../core/format.js';
import { Renderer } from './render.js';
import { providerSummaries } from './provider-flags.js';
import { statusLines } from './render-ops.js';

/** What an ops command hands back: its data, the human rendering, and the exit code. */
export interface OpsResult {
  value: unknown;
  human: () => string[];
  exitCode?: number;
  /** What the user must know whatever the output mode (printed on stderr; also part of `value`). */
  warnings?: readonly string[] | undefined;
}

type SetExit = (code: number) => void;

/** Wraps a command body: renders its result or its error, and sets the exit code. */
export function act<F extends { json?: boolean }>(ctx: Context, setExit: SetExit, body: (flags: F, renderer: Renderer) => Promise<OpsResult | number>): (flags: F) => Promise<void> {
  return async (flags) => {
    const renderer = new Renderer({ json: flags.json === true, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env });
    try {
      const r = await body(flags, renderer);
      if (typeof r === 'number') return setExit(r);
      renderer.data(r.value, r.human);
      for (const w of r.warnings ?? []) renderer.warning(w);
      setExit(r.exitCode ?? 0);
    } catch (e) {
      const err = toAppError(e);
      renderer.error(err);
      setExit(err.exitCode);
    }
  };
}

const mb = (n: number | undefined): string => (n === undefined ? 'n/a' : humanBytes(n));

/**
 * Defines a `sandbox <verb>` command and its deprecated hyphenated twin `sandbox-<verb>`, which prints
 * a one-line notice on stderr first.
 */
function twin<F extends { sessionId?: string; json?: boolean }>(sandbox: Command, program: Command, ctx: Context, setExit: SetExit, verb: string, describe: string, define: (c: Command) => Command, action: (flags: F) => Promise<void>): void {
  // The session may be given as a positional argument (`sandbox logs 8496`) or with --session-id.
  const withSession = async (session: string | undefined, flags: F): Promise<void> => {
    if (session !== undefined && flags.sessionId !== undefined && session !== flags.sessionId)
      return act<F>(ctx, setExit, () => Promise.reject(new AppError('usage', `two sessions given: "${session}" and --session-id ${String(flags.sessionId)}`, { hint: 'Give the session once.' })))(flags);
    await action({ ...flags, ...(session !== undefined ? { sessionId: session } : {}) });
  };
  const arg = (c: Command): Command => define(c).argument('[session]', 'session id or a unique prefix of it (same as --session-id)');
  arg(sandbox.command(verb).description(describe)).action(withSession);
  arg(program.command(`sandbox-${verb}`, { hidden: true }).description(`deprecated: use \`sandbox ${verb}\``)).action(async (session: string | undefined, flags: F) => {
    ctx.stderr.write(`warning: \`parallel-cc sandbox-${verb}\` is deprecated; use \`parallel-cc sandbox ${verb}\`\n`);
    await withSession(session, flags);
  });
}

const keyLines = (keys: Array<{ key: string; type: string; default: unknown; env: string | null }>): string[] => {
  const w = Math.max(...keys.map((k) => k.key.length));
  return keys.map((k) => `${k.key.padEnd(w)}  ${k.type}  default ${k.default === null ? '(unset)' : JSON.stringify(k.default)}${k.env ? `  env ${k.env}` : ''}`);
};

/** Registers status, sandbox logs/download/kill/health, doctor, cleanup, config and completion. */
export function registerOpsCommands(program: Command, sandbox: Command, ctx: Context, setExit: SetExit): void {
  program
    .command('status')
    .description('list sessions (active ones; --all includes ended) grouped by repository')
    .option('--repo <path>', 'only this repository')
    .option('--sandbox-only', 'only sandboxed sessions (not local claude-parallel ones)')
    .option('--all', 'include ended sessions')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<StatusFlags>(ctx, setExit, async (flags, renderer) => {
        const out = await (await import('./commands/status.js')).statusCommand(flags, ctx);
        const columns = renderer.stdoutColumns();
        return { value: out, human: () => statusLines(out, { paint: renderer.stdoutPaint(), ...(columns !== undefined ? { columns } : {}) }) };
      }),
    );

  const sid = (c: Command): Command => c.option('--session-id <id>', 'the session (see `parallel-cc status`)');
  twin(sandbox, program, ctx, setExit, 'logs', "print a session's event log", (c) =>
    sid(c)
      .option('--tail <n>', 'only the last n events')
      .option('--follow', 'keep printing new events until the session ends')
      .option('--save <file>', 'also write the raw NDJSON log to a file')
      .option('--egress', 'show the network log (allowed and denied connections) instead')
      .option('--webhooks', 'show the webhook delivery log (each attempt, status, retries) instead')
      .option('--json', 'NDJSON on stdout'),
    act<LogsFlags>(ctx, setExit, async (flags, renderer) => (await import('./commands/logs.js')).logsCommand(flags, ctx, renderer)),
  );
  twin(sandbox, program, ctx, setExit, 'download', "copy a session's changed (or all) files into a folder", (c) =>
    sid(c)
      .option('--output <dir>', 'destination folder', 'sandbox-results')
      .option('--selective', 'only the files the agent changed (default)')
      .option('--all', 'every file of the result')
      .option('--filter <glob>', "only paths matching the glob (gitignore-style, e.g. '*.ts')")
      .option('--json', 'one JSON document on stdout'),
    act<DownloadFlags>(ctx, setExit, async (flags) => {
      const out = await (await import('./commands/download.js')).downloadCommand(flags, ctx);
      return { value: out, human: () => [`${plural(out.files.length, 'file')} from the ${out.source} of ${out.sessionId} → ${out.output}`, ...out.files.map((f) => `  ${f}`)] };
    }),
  );
  twin(sandbox, program, ctx, setExit, 'kill', 'stop a running session (its work so far is brought back first)', (c) =>
    sid(c)
      .option('--keep-worktree', 'keep the session worktree after stopping')
      .option('--no-download', 'do not bring the results back')
      .option('--json', 'one JSON document on stdout'),
    act<KillFlags>(ctx, setExit, async (flags) => {
      const out = await (await import('./commands/kill.js')).killCommand(flags, ctx);
      return { value: out, warnings: out.warnings, human: () => [`Session ${out.sessionId} ${out.status.toUpperCase()}${out.branch ? ` · branch ${out.branch} (${plural(out.commits, 'commit')})` : ''}${out.worktree ? ` · worktree ${out.worktree}` : ''}`] };
    }),
  );
  twin(sandbox, program, ctx, setExit, 'health', "a session's uptime, CPU, memory, disk and cost", (c) => sid(c).option('--json', 'one JSON document on stdout'),
    act<HealthFlags>(ctx, setExit, async (flags) => {
      const h = await (await import('./commands/health.js')).healthCommand(flags, ctx);
      return {
        value: h,
        human: () => [
          `Session   ${h.sessionId} ${h.status} (${h.provider}${h.sandboxId ? ` ${h.sandboxId}` : ''})`,
          `Uptime    ${h.uptimeMs === undefined ? 'n/a' : formatDuration(h.uptimeMs)}${h.timeoutMs ? ` of ${formatDuration(h.timeoutMs)}` : ''}`,
          `CPU       ${h.cpuPercent === undefined ? 'n/a' : `${h.cpuPercent.toFixed(1)}%`}`,
          `Memory    ${mb(h.memoryBytes)} / ${mb(h.memoryLimitBytes)}${h.pids !== undefined ? ` · ${plural(h.pids, 'process', 'processes')}` : ''}`,
          `Disk      ${mb(h.diskBytes)}`,
          `Activity  ${h.lastActivity ?? 'n/a'}${h.lastActivityAt ? ` at ${h.lastActivityAt}` : ''}`,
          `Cost      ${h.costUsd === null ? 'n/a (reported when the agent finishes)' : `$${h.costUsd.toFixed(4)}`}`,
          ...(h.sandboxCostUsd !== undefined ? [`Sandbox   $${h.sandboxCostUsd.toFixed(4)} so far (time-billed, est.)`] : []),
          ...(h.keyProtection ? [`API key   ${h.keyProtection}`] : []),
        ],
      };
    }),
  );

  twin(sandbox, program, ctx, setExit, 'reattach', 'take over a session whose parallel-cc process died and bring its work back', (c) => sid(c).option('--json', 'one JSON document on stdout'),
    act<{ sessionId?: string; json?: boolean }>(ctx, setExit, async (flags) => {
      const renderer = new Renderer({ json: false, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env });
      // A cloud agent that is still working is streamed until it ends (not with --json: stdout is one document).
      const r = await (await import('./commands/reattach.js')).reattachCommand(flags, ctx, flags.json ? undefined : (e) => renderer.event(e));
      return { value: r, warnings: r.warnings, human: () => [`Session ${r.sessionId} ${r.status.toUpperCase()} · ${plural(r.commits, 'commit')} recovered${r.worktreeKept ? '' : ' · nothing to keep, worktree removed'}`, ...(r.error ? [`  ${r.error}`] : [])] };
    }),
  );

  sandbox
    .command('exec')
    .description('run one command in a fresh sandbox (no agent, no branch) and exit with its code')
    .option('--provider <name>', providerSummaries(' | ', ' | '))
    .option('--repo <path>', "copy this repository's files (minus secrets and ignored files) into the workspace")
    .argument('<command...>', 'the command and its arguments (put them after --)')
    .action(async (argv: string[], flags: ExecFlags) => {
      const renderer = new Renderer({ json: false, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env });
      try {
        setExit(await (await import('./commands/exec.js')).execCommand(argv, flags, ctx));
      } catch (e) {
        const err = toAppError(e);
        renderer.error(err);
        setExit(err.exitCode);
      }
    });

  program
    .command('doctor')
    .description('check prerequisites and print the fix for each problem')
    .option('--sandbox', 'also list every provider SDK')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<DoctorFlags>(ctx, setExit, async (flags) => {
        const out = await (await import('./commands/doctor.js')).doctorCommand(flags, ctx);
        return {
          value: out,
          exitCode: out.ok ? 0 : 1,
          human: () => out.checks.map((c) => `${c.ok ? '✓' : c.required ? '✗' : '!'} ${c.name}: ${c.detail}${c.ok ? '' : `\n    fix: ${c.fix ?? ''}`}`),
        };
      }),
    );
  program
    .command('cleanup')
    .description('finish orphaned sessions and remove leftover sandboxes, worktrees, and session branches whose work is safe elsewhere (never uncommitted changes or unmerged commits)')
    .option('--dry-run', 'only report what would be done, and why')
    .option('--merged', 'only remove ended sessions\' branches (and worktrees) that are merged (squash and rebase merges included)')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<CleanupFlags>(ctx, setExit, async (flags) => {
        const out = await (await import('./commands/cleanup.js')).cleanupCommand(flags, ctx);
        return { value: out, warnings: out.warnings, human: () => (out.actions.length ? out.actions.map((a) => `${a.action} ${a.kind} ${a.target}: ${a.reason}`) : ['Nothing to clean up.']) };
      }),
    );
  const config = program.command('config').description('configuration: the effective values (show) and every key (keys)');
  config
    .command('keys')
    .description('every configuration key with its type, default and environment variable')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const [{ configKeys }, { envMappings }] = await Promise.all([import('../config/keys.js'), import('../config/load.js')]);
        const keys = configKeys(envMappings());
        return { value: keys, human: () => keyLines(keys) };
      }),
    );
  config
    .command('show')
    .description('the effective configuration and where each value comes from')
    .option('--repo <path>', 'include this repository\'s .parallel-cc.json', '.')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ repo?: string; json?: boolean }>(ctx, setExit, async (flags) => {
        const out = await (await import('./commands/config.js')).configShowCommand(flags, ctx);
        return { value: out, human: () => out.entries.map((e) => `${e.key} = ${JSON.stringify(e.value)}  (${e.source})`) };
      }),
    );
  // Used by the completion scripts: the ids of sessions that have not ended, one per line.
  program
    .command('__sessions', { hidden: true })
    .action(
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const out = await (await import('./commands/status.js')).statusCommand({}, ctx);
        const ids = out.repos.flatMap((r) => r.sessions.map((s) => s.id));
        return { value: ids, human: () => ids };
      }),
    );
  program
    .command('completion <shell>')
    .description('print a shell completion script (bash, zsh or fish)')
    .action(
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const shell = program.args[1] ?? '';
        if (!['bash', 'zsh', 'fish'].includes(shell)) throw new AppError('usage', `unknown shell "${shell}"`, { hint: 'Use bash, zsh or fish.' });
        const script = (await import('./completion.js')).completionScript(shell, program);
        return { value: script, human: () => [script.trimEnd()] };
      }),
    );
}
