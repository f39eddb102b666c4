import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import { escapeControls } from '../core/sanitize.js';
import type { StoredWorkflow } from '../core/workflows/store.js';
import { act } from './ops-program.js';
import { AppError } from '../errors.js';
import type { CreateFlags } from './commands/workflow.js';

type SetExit = (code: number) => void;
/** This CLI's entry point, for the crontab line (dist/bin.js next to dist/cli/). */
const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Options of `workflow create` itself; every other option it has is a `sandbox run` flag to save. */
const OWN = new Set(['retries', 'retryDelay', 'retryBackoff', 'scope', 'force', 'description', 'json', 'verbose']);

/** The task of saved run flags, for a list line. */
const what = (run: Record<string, unknown>): string => {
  const v = run.prompt ?? run.promptFile ?? run.taskFile;
  return typeof v === 'string' ? v : '';
};

const listLines = (ws: readonly StoredWorkflow[]): string[] =>
  ws.length
    ? ws.map((w) => escapeControls(`${w.definition.name.padEnd(24)} ${w.scope.padEnd(4)}  ${w.definition.retry ? `retries ${w.definition.retry.max}  ` : ''}${w.definition.description ?? what(w.definition.run).split('\n')[0]?.slice(0, 60)}`))
    : ['No saved workflows.'];

/**
 * `parallel-cc workflow create|list|show|rm|run|schedule|serve`: saved `sandbox run`s. `runOptions`
 * declares the `sandbox run` flags (program.ts), so a workflow takes exactly what a run takes.
 */
export function registerWorkflowCommands(program: Command, ctx: Context, setExit: SetExit, runOptions: (cmd: Command) => Command): void {
  const places = { home: ctx.home, cwd: ctx.cwd };
  const wf = program.command('workflow').description('saved runs: create one from `sandbox run` flags, run it by name, retry transient failures, trigger it by cron or a signed HTTP request');

  runOptions(wf.command('create').argument('<name>', 'the workflow name (letters, digits, - and _)').description('save a `sandbox run` (single or --multi) under a name'))
    .option('--retries <n>', 'attempt again, up to n times, when the provider fails (outage, HTTP 5xx/429, sandbox lost); never when the agent fails')
    .option('--retry-delay <seconds>', 'wait before the first retry (default 5)')
    .option('--retry-backoff <factor>', 'multiply the wait by this after each retry (default 2)')
    .option('--scope <where>', 'user (~/.parallel-cc/workflows, default) or repo (<repo>/.parallel-cc/workflows, wins over user)')
    .option('--description <text>', 'a line shown by `workflow list`')
    .option('--force', 'replace a workflow of the same name')
    .action(async (name: string, flags: CreateFlags & Record<string, unknown>, cmd: Command) => {
      const given = Object.fromEntries(Object.entries(flags).filter(([k]) => !OWN.has(k) && cmd.getOptionValueSource(k) === 'cli'));
      await act<CreateFlags>(ctx, setExit, async () => {
        const out = await (await import('./commands/workflow.js')).createWorkflow(name, given, flags, ctx);
        return { value: out, human: () => [`Saved workflow ${out.name} (${out.scope}): ${out.file}`, `Run it with: parallel-cc workflow run ${out.name}`] };
      })(flags);
    });

  wf.command('list')
    .description('the saved workflows (the repository\'s first; a repository workflow hides a user one of the same name)')
    .option('--json', 'one JSON document on stdout')
    .action(
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const ws = await (await import('../core/workflows/store.js')).listWorkflows(places);
        return { value: { workflows: ws.map((w) => ({ name: w.definition.name, scope: w.scope, file: w.file, definition: w.definition })) }, human: () => listLines(ws) };
      }),
    );

  wf.command('show')
    .argument('<name>', 'the workflow')
    .description('a workflow\'s definition and where it is saved')
    .option('--secret', 'also print its trigger secret (`workflow serve`)')
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, flags: { json?: boolean; secret?: boolean }) =>
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const store = await import('../core/workflows/store.js');
        const w = await store.loadWorkflow(name, places);
        const secret = flags.secret ? await store.workflowSecret(name, ctx.home) : undefined;
        const value = { name, scope: w.scope, file: w.file, definition: w.definition, ...(secret ? { secret } : {}) };
        return { value, human: () => escapeControls(`# ${w.file} (${w.scope})\n${JSON.stringify(w.definition, null, 2)}${secret ? `\nsecret: ${secret}` : ''}`).split('\n') };
      })(flags),
    );

  wf.command('rm')
    .argument('<name>', 'the workflow')
    .description('remove a saved workflow (the one `workflow run` would use)')
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, flags: { json?: boolean }) =>
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const file = await (await import('../core/workflows/store.js')).removeWorkflow(name, places);
        return { value: { name, removed: file }, human: () => [`Removed workflow ${name} (${file})`] };
      })(flags),
    );

  wf.command('run')
    .argument('<name>', 'the workflow')
    .description('run a saved workflow exactly as its `sandbox run`; each session row records the workflow')
    .option('--set <key=value>', 'override a saved flag for this run: timeout=10m, provider=docker, cleanup=false (repeatable)', collect)
    .option('--json', 'NDJSON events on stdout, then {"type":"workflow", attempts, sessionIds}')
    .action(async (name: string, flags: { set?: string[]; json?: boolean }) => {
      setExit((await (await import('./commands/workflow.js')).runWorkflow(name, flags, ctx)).code);
    });

  wf.command('schedule')
    .argument('<name>', 'the workflow')
    .description('run a workflow on a schedule from your crontab (one line, `crontab -l`/`crontab -`); --remove takes it out again')
    .option('--cron <expr>', 'when: five cron fields ("0 3 * * *" = 03:00 daily) or @daily, @hourly, …')
    .option('--remove', 'remove the schedule; the crontab is as it was before')
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, flags: { cron?: string; remove?: boolean; json?: boolean }) =>
      act<{ json?: boolean }>(ctx, setExit, async () => {
        const cron = await import('../core/workflows/cron.js');
        if (flags.remove) {
          if (flags.cron !== undefined) throw new AppError('usage', '--remove takes no --cron');
          const out = await cron.unscheduleWorkflow(name, { home: ctx.home, env: ctx.env });
          return { value: { name, ...out }, human: () => [out.removed ? `Removed the schedule of ${name}` : `${name} was not scheduled`] };
        }
        if (flags.cron === undefined) throw new AppError('usage', 'give --cron "<schedule>" or --remove', { hint: 'Example: parallel-cc workflow schedule nightly --cron "0 3 * * *"' });
        await (await import('../core/workflows/store.js')).loadWorkflow(name, places);
        const out = await cron.scheduleWorkflow(name, flags.cron, { home: ctx.home, env: ctx.env, cwd: ctx.cwd, self: [process.execPath, BIN] });
        return { value: { name, ...out }, human: () => [`Scheduled ${name}: ${escapeControls(out.line)}`] };
      })(flags),
    );

  wf.command('serve')
    .description('listen on 127.0.0.1 for signed trigger requests (POST /workflows/<name>, HMAC-SHA256 with the workflow\'s secret) and run the workflow; 202 with its session ids')
    .option('--port <n>', 'the port (default 8787; 0 picks a free one)')
    .option('--json', 'NDJSON on stdout: {"type":"listening", port}')
    .action(async (flags: { port?: string; json?: boolean }) => {
      setExit(await (await import('./commands/workflow-serve.js')).serveWorkflows(flags, ctx));
    });
}
