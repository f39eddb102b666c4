/**
 * `parallel-cc mcp-serve`: an MCP server over stdio (official SDK) that gives an agent parallel-cc's
 * session tools: list sessions, my session, start a sandbox run, status/logs/download/kill of a
 * sandbox session, and a merge-conflict preview of a session branch. Inputs are zod schemas; every
 * failure is an MCP tool error with the message and hint, never a crashed server.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { PROVIDER_NAMES } from '../config/schema.js';
import type { Context } from '../core/context.js';
import { findLocalByPid } from '../core/local/sessions.js';
import { toAppError } from '../errors.js';
import { downloadSession } from '../core/ops/download.js';
import { killSession } from '../core/ops/kill.js';
import { withRegistry } from '../core/registry.js';
import { listSessions, sessionStatus } from '../core/ops/status.js';
import { lastEvents } from '../core/ops/logs.js';
import { previewMerge } from '../core/ops/conflicts.js';
import { crossConflicts } from '../core/merge/conflicts.js';
import { LiveDashboard } from '../core/dashboard/live.js';

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
type ToolResult = { content: Array<{ type: 'text'; text: string }>; isError?: boolean };

/** Wraps a tool body: its value as JSON text, or an MCP tool error carrying the message and hint. */
async function tool(body: () => Promise<unknown>): Promise<ToolResult> {
  try {
    return { content: [{ type: 'text', text: JSON.stringify(await body(), null, 2) }] };
  } catch (e) {
    const err = toAppError(e);
    return { isError: true, content: [{ type: 'text', text: `${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}` }] };
  }
}

const sessionId = z.string().regex(/^[0-9a-f]{4,8}$/, 'a session id (8 hex digits)');

/** Starts `sandbox run` as a detached process and returns its session id once it has one. */
async function startRun(ctx: Context, input: { prompt: string; repo?: string; provider?: string; timeoutMinutes?: number }): Promise<{ sessionId: string; log: string }> {
  // In parallel-cc's home, next to the session logs (not the system temp folder, where nothing
  // would ever remove it): the prompt file and the detached run's output.
  const runs = join(ctx.home, 'mcp-runs');
  await mkdir(runs, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(runs, 'run-'));
  const promptFile = join(dir, 'prompt.md');
  await writeFile(promptFile, input.prompt, { mode: 0o600 });
  const log = join(dir, 'run.ndjson');
  const out = openSync(log, 'w');
  const argv = [BIN, 'sandbox', 'run', '--repo', resolve(ctx.cwd, input.repo ?? '.'), '--prompt-file', promptFile, '--json', ...(input.provider ? ['--provider', input.provider] : []), ...(input.timeoutMinutes ? ['--timeout', String(input.timeoutMinutes)] : [])];
  const child = spawn(process.execPath, argv, { cwd: ctx.cwd, env: ctx.env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  for (let i = 0; i < 600; i++) {
    const text = readFileSync(log, 'utf8');
    const m = /"sessionId":"([0-9a-f]{8})"/.exec(text);
    if (m?.[1]) return { sessionId: m[1], log };
    if (code !== undefined) throw new Error(`sandbox run exited with ${String(code)} before starting a session: ${text.split('\n').filter(Boolean).slice(-3).join(' ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sandbox run did not start a session within 60 s');
}

/** Builds the server (exported for tests that drive it in-process). */
export function buildMcpServer(ctx: Context): McpServer {
  const server = new McpServer({ name: 'parallel-cc', version: '0.1.0' });
  const quiet: Context = { ...ctx, stdout: { write: () => true }, stderr: { write: () => true } };
  // One dashboard read model per server (and per `all`), not one per call: each call reads only what is
  // new in the logs and keeps the ended sessions' git stats; nothing is watched between calls.
  const boards = new Map<boolean, LiveDashboard>();
  const board = (all: boolean): LiveDashboard => {
    let b = boards.get(all);
    if (!b) boards.set(all, (b = new LiveDashboard(quiet, { watch: false, ...(all ? { endedWithinMs: Infinity } : {}) })));
    return b;
  };

  server.registerTool('list_sessions', { description: 'Sessions of a repository (active ones, or all).', inputSchema: { repo: z.string().optional(), all: z.boolean().optional() } }, (a) =>
    tool(() => listSessions({ repo: a.repo ?? '.', ...(a.all ? { all: true } : {}) }, quiet)),
  );
  server.registerTool('my_session', { description: 'The local parallel-cc session this agent runs in (claude-parallel), if any.', inputSchema: {} }, () =>
    tool(() => withRegistry(quiet, (s) => findLocalByPid(s, process.ppid) ?? null)),
  );
  server.registerTool(
    'start_sandbox_run',
    {
      description: 'Start an agent on a task in a sandbox; returns its session id at once. Its work lands on branch parallel-cc/<id>.',
      inputSchema: { prompt: z.string().min(1), repo: z.string().optional(), provider: z.enum(PROVIDER_NAMES).optional(), timeoutMinutes: z.number().positive().max(60).optional() },
    },
    (a) => tool(() => startRun(ctx, a)),
  );
  server.registerTool('sandbox_status', { description: 'Status of one session (running, completed, orphaned…).', inputSchema: { sessionId } }, (a) =>
    tool(() => sessionStatus(quiet, a.sessionId)),
  );
  server.registerTool('sandbox_logs', { description: 'The last events of a session.', inputSchema: { sessionId, tail: z.number().int().positive().max(1000).optional() } }, (a) =>
    tool(() => lastEvents(quiet, a.sessionId, a.tail ?? 50)),
  );
  server.registerTool('sandbox_download', { description: "Copy a session's changed (or all) files into a folder.", inputSchema: { sessionId, output: z.string().optional(), all: z.boolean().optional() } }, (a) =>
    tool(() => downloadSession({ sessionId: a.sessionId, ...(a.output ? { output: a.output } : {}), ...(a.all ? { all: true } : {}) }, quiet)),
  );
  server.registerTool('sandbox_kill', { description: 'Stop a running session (its work so far is brought back).', inputSchema: { sessionId } }, (a) => tool(() => killSession({ sessionId: a.sessionId, keepWorktree: true }, quiet)));
  server.registerTool(
    'check_conflicts',
    { description: "Would a session's branch merge cleanly into the base? (git merge-tree preview; nothing is changed)", inputSchema: { sessionId, base: z.string().optional() } },
    (a) => tool(() => previewMerge(quiet, a.sessionId, a.base)),
  );
  server.registerTool(
    'check_session_conflicts',
    {
      description: 'Which session branches touch the same files/hunks, and whether they merge cleanly with each other and with the base (a --multi group, or every unmerged session of a repo; nothing is changed)',
      inputSchema: { group: z.string().min(1).optional(), repo: z.string().optional(), base: z.string().optional() },
    },
    (a) => tool(() => crossConflicts({ ...(a.group ? { group: a.group } : {}), ...(a.repo ? { repo: a.repo } : {}), ...(a.base ? { base: a.base } : {}) }, quiet)),
  );
  server.registerTool(
    'dashboard',
    { description: 'The live dashboard read model: fleet header (counts, concurrency, spend), one row per session (state, step, files, cost, denied egress), attention lane', inputSchema: { all: z.boolean().optional() } },
    (a) => tool(() => board(a.all === true).look()),
  );
  return server;
}

/** Serves MCP on stdin/stdout until the client closes the connection. */
export async function serveMcp(ctx: Context): Promise<void> {
  const server = buildMcpServer(ctx);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  await new Promise<void>((r) => {
    transport.onclose = () => r();
    process.stdin.on('end', () => r());
  });
}
