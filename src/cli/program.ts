import { Command, CommanderError, Option } from 'commander';
import { AGENT_NAMES } from '../agents/names.js';
import type { Context } from '../core/context.js';
import { AppError, toAppError } from '../errors.js';
import type { RunFlags } from './commands/run.js';
import type { MultiFlags } from './commands/multi-flags.js';
import { addExamples } from './help-examples.js';
import { registerLocalCommands } from './local-program.js';
import { registerOpsCommands } from './ops-program.js';
import { registerComponentCommands } from './components-program.js';
import { registerHistoryCommand } from './history-program.js';
import { registerWorkflowCommands } from './workflow-program.js';
import { registerTemplateCommands } from './templates-program.js';
import { registerMergeCommands } from './merge-program.js';
import { registerDashboardCommand } from './dashboard-program.js';
import { escapeControls } from '../core/sanitize.js';
import { heartbeatMs, Renderer } from './render.js';
import { providerFlagOptions, providerSummaries } from './provider-flags.js';
import { addSessionOptions } from './session-options.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Declares the `sandbox run` options (shared by `sandbox run` and the deprecated `sandbox-run`). */
function runOptions(cmd: Command): Command {
  cmd
    .option('--repo <path>', 'repository to work on', '.')
    .option('--prompt <text>', 'task for the agent')
    .option('--prompt-file <path>', 'read the task from a file (e.g. PLAN.md)')
    .addOption(new Option('--provider <name>', `sandbox provider: ${providerSummaries(' or ')}`))
    .addOption(new Option('--sandbox <name>', 'the same as --provider (claude-code-templates\' spelling)').hideHelp())
    .option('--timeout <duration>', 'stop the agent after this long: 30m / 1800s / 1h, or a bare number: minutes up to 60, seconds above (--timeout 300 = 5 min, as in claude-code-templates); at most 60 minutes, default 60')
    .option('--base <ref>', 'branch from this ref instead of HEAD plus your uncommitted work')
    .option('--allow-domain <domain>', 'let the agent reach this host (repeatable; *.example.com for subdomains)', collect)
    .option('--dry-run', 'print what would be uploaded and excluded; create nothing')
    .option('--json', 'NDJSON events on stdout, diagnostics on stderr')
    .option('--stream', 'print the agent\'s events live: the default (spec 001\'s flag, accepted; it changes nothing)')
    .option('--no-stream', 'do not print the agent\'s events live, only the summary')
    .option('--local-log <file>', 'also write the full event log to this file')
    .option('--no-cleanup', 'keep the sandbox after the run for inspection')
    .option('--keep-on-error', 'keep the sandbox only when the run does not complete (spec 002\'s cleanup_on_error: false); `parallel-cc cleanup` removes it later')
    .option('--auth-method <method>', 'api-key (ANTHROPIC_API_KEY) or oauth (your Claude login); it stays on the host either way')
    .option('--agent-cli <name>', `agent CLI to run: ${AGENT_NAMES.join(' | ')} (default claude; config agentCli, env PARALLEL_CC_AGENT_CLI)`)
    .option('--agent-command <argv>', '--agent-cli command: the program and its arguments, split like a shell would but never run by one; the prompt is its stdin')
    .option('--agent <name>', 'a Claude Code agent component: category/name from the catalog (development/frontend-developer), a name in .claude/agents, or a .md file; the first is the main agent (repeatable, comma-separated)', collect)
    .option('--command <name>', 'a slash-command component (testing/generate-tests); the first runs with the prompt as its arguments (repeatable, comma-separated)', collect)
    .option('--mcp <name>', 'an MCP server component (a catalog name or a .json file) (repeatable, comma-separated)', collect)
    .option('--setting <name>', 'a settings component merged into the sandbox\'s ~/.claude/settings.json (repeatable, comma-separated)', collect)
    .option('--hook <name>', 'a hook component merged into the sandbox\'s ~/.claude/settings.json; hooks run inside the sandbox (repeatable, comma-separated)', collect)
    .option('--template <name>', 'an environment template: python | node | general | minimal, one of `parallel-cc templates list`, or a .json file (image, cpus, memory, timeout, env, packages, setup)')
    .option('--sandbox-config <file>', 'a spec-000 sandbox config ({image, cpu, memory, disk, env}) used as an inline template')
    .option('--webhook <url>', 'POST this session\'s lifecycle events (created, started, completed, failed, …) as JSON here, signed with PARALLEL_CC_WEBHOOK_SECRET when set (repeatable; config webhooks for formats and filters)', collect)
    .option('--setup <command>', 'a shell command run in the sandbox before the agent (e.g. "npm ci"); if it fails the agent does not run (config hooks.setup)')
    .option('--on-success <command>', 'a check run in the sandbox after an agent that completed (e.g. "npm test && npm run build"); if it fails the session is failed (reason check_failed) and the work still lands')
    .option('--on-failure <command>', 'a command run in the sandbox after an agent that did not complete; its exit code is recorded')
    .option('--hook-timeout <duration>', 'the time limit of each hook: 10m (default), 600s, 1h')
    .option('--git-live', 'when the run completes, push its branch to origin and open a pull request (`parallel-cc pr`); nothing is pushed otherwise')
    .option('--npm-token <token>', 'private npm packages: the registry token, kept on the host; the sandbox\'s npmrc points at a per-session endpoint that adds it (better: PARALLEL_CC_NPM_TOKEN, off the command line)')
    .option('--npm-registry <url>', 'the registry --npm-token is for (default https://registry.npmjs.org/; env PARALLEL_CC_NPM_REGISTRY)')
    .option('--github-token [token]', 'private GitHub repos: git clones/fetches of https://github.com/ go through a per-session endpoint that adds the token on the host (without a value: $GITHUB_TOKEN)')
    .option('--ssh-key <path>', 'a private key (mode 600, no passphrase) held by a per-session ssh-agent on the host; the sandbox can sign with it, never read it; opens the git host\'s port 22 (PARALLEL_CC_SSH_HOST, default github.com:22)')
    .option('--skip-agent-update', 'do not update an agent a cloud sandbox brings with it (`claude update`) before it starts');
  addSessionOptions(cmd);
  // Each provider module's own flags, where the provider flags always were (before --skip-claude-update).
  for (const option of providerFlagOptions()) cmd.addOption(option);
  return cmd
    .option('--skip-claude-update', 'the old name of --skip-agent-update')
    .option('--multi', 'run several tasks at once, each in its own sandbox and branch (see --task, --task-file)')
    .option('--task <prompt>', '--multi: one task (repeatable)', collect)
    .option('--task-file <path>', '--multi: tasks, one per line (# comments; JSON lines {prompt, id, base, after})')
    .option('--max-concurrent <n>', '--multi: at most this many sandboxes at once (default 3)')
    .option('--fail-fast', '--multi: the first failed task stops all the others')
    .option('--output-dir <path>', '--multi: where summary.md/summary.json and per-task results go (default ./parallel-results)')
    .option('--budget-per-task <usd>', '--multi: stop a task whose cost passes this many USD (status over_budget)')
    .option('--budget <usd>', '--multi: stop every task once the whole batch costs this many USD (status over_budget)')
    .option('--verbose', 'step-by-step diagnostics on stderr, and --dry-run lists every file (same as PARALLEL_CC_LOG_LEVEL=debug)');
}

/**
 * Builds the commander program. Actions return an exit code through `setExit`; nothing here calls
 * process.exit (only src/bin.ts does).
 */
export function buildProgram(ctx: Context, setExit: (code: number) => void): Command {
  const program = new Command('parallel-cc')
    .description('Run coding agents in isolated sandboxes, many at once, and bring their work back as git branches.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) })
    .exitOverride();

  const runAction = async (flags: RunFlags & MultiFlags): Promise<void> => {
    if (flags.multi) {
      setExit(await (await import('./commands/multi.js')).multiAction(flags, ctx));
      return;
    }
    const renderer = new Renderer({ json: flags.json === true, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, progress: { heartbeatMs: heartbeatMs(ctx.env), signal: ctx.signal } });
    const stream = flags.stream !== false;
    try {
      // Loaded when used, like every command module: start-up pays only for what it runs.
      const [{ rejectMultiOnlyFlags }, { runCommand }] = await Promise.all([import('./commands/multi-flags.js'), import('./commands/run.js')]);
      rejectMultiOnlyFlags(flags);
      const out = await runCommand(flags, ctx, (e) => renderer.event(e, { stream }));
      if (out.kind === 'plan') {
        renderer.plan(out.plan);
        setExit(0);
      } else setExit(out.summary.exitCode);
    } catch (e) {
      const err = toAppError(e);
      renderer.error(err);
      setExit(err.exitCode);
    } finally {
      renderer.close();
    }
  };

  const sandbox = program.command('sandbox').description('run and manage sandboxed agent sessions');
  runOptions(sandbox.command('run').description('run an agent on a task in a sandbox; its work lands on branch parallel-cc/<id>')).action(runAction);
  registerOpsCommands(program, sandbox, ctx, setExit);
  registerLocalCommands(program, ctx, setExit);
  registerComponentCommands(program, ctx, setExit);
  registerHistoryCommand(program, ctx, setExit);
  registerWorkflowCommands(program, ctx, setExit, runOptions);
  registerTemplateCommands(program, ctx, setExit);
  registerMergeCommands(program, ctx, setExit);
  registerDashboardCommand(program, ctx, setExit);
  addExamples(program);
  runOptions(program.command('sandbox-run', { hidden: true }).description('deprecated: use `sandbox run`')).action(async (flags: RunFlags) => {
    ctx.stderr.write('warning: `parallel-cc sandbox-run` is deprecated; use `parallel-cc sandbox run`\n');
    await runAction(flags);
  });
  return program;
}

/**
 * Splits `--verbose` off the command line: it counts anywhere before `--` (same as
 * PARALLEL_CC_LOG_LEVEL=debug); after `--` everything belongs to the user's command, untouched.
 */
export function takeVerbose(argv: readonly string[]): { verbose: boolean; argv: string[] } {
  const end = argv.indexOf('--') === -1 ? argv.length : argv.indexOf('--');
  const head = argv.slice(0, end);
  return { verbose: head.includes('--verbose'), argv: [...head.filter((a) => a !== '--verbose'), ...argv.slice(end)] };
}

/** Parses argv and runs the command; returns the process exit code. */
export async function main(argvIn: string[], ctx0: Context): Promise<number> {
  const { verbose, argv: parsed } = takeVerbose(argvIn);
  // `help sandbox run` is `sandbox run --help` (commander's help command only looks one word deep).
  const argv = parsed[0] === 'help' && parsed.length > 1 ? [...parsed.slice(1).filter((a) => a !== '--'), '--help'] : parsed;
  const ctx = verbose ? { ...ctx0, env: { ...ctx0.env, PARALLEL_CC_LOG_LEVEL: 'debug' } } : ctx0;
  let code = 0;
  const program = buildProgram(ctx, (c) => (code = c));
  if (argv.length === 0) {
    // Bare `parallel-cc` asked for nothing wrong: the help goes to stdout and the exit code is 0.
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with exit code 0; every parsing error is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    const err = e instanceof AppError ? e : toAppError(e);
    // An error message may quote sandbox text: terminal-safe like everything the renderer prints.
    ctx.stderr.write(escapeControls(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`));
    return err.exitCode;
  }
  return code;
}
