import type { Command } from 'commander';
import type { Context } from '../core/context.js';
import type { DashboardFlags } from './commands/dashboard.js';
import { act } from './ops-program.js';

/** `parallel-cc dashboard [--web [--port N]] [--json] [--once] [--notify CMD] [--budget USD]`. */
export function registerDashboardCommand(program: Command, ctx: Context, setExit: (code: number) => void): void {
  program
    .command('dashboard')
    .description('live view of every session (any terminal, MCP, dead CLIs): fleet, rows, attention lane, drill-down, actions — TUI, plain table, JSON or a local web page')
    .option('--web', 'serve it as a web page on 127.0.0.1 (the URL with its access token is printed once)')
    .option('--port <n>', '--web: the port (default: a free one)')
    .option('--json', 'the read model as JSON: one document with --once, else one per change')
    .option('--once', 'print the dashboard once and exit')
    .option('--notify <cmd>', 'run this command (split like a shell would, no shell) when a session needs attention; the reason is in PARALLEL_CC_ATTENTION_* env')
    .option('--budget <usd>', 'the fleet budget the spend is shown against (over it: attention)')
    .option('--idle-minutes <n>', 'a running session without an event this long needs attention (default 5)')
    .option('--all', 'include sessions that ended more than 12 hours ago')
    .option('--output <dir>', 'where the download action writes (default ./sandbox-results)')
    .action(act<DashboardFlags>(ctx, setExit, async (flags) => (await import('./commands/dashboard.js')).dashboardCommand(flags, ctx)));
}
