#!/usr/bin/env node
/**
 * `claude-parallel`: run it instead of `claude` in a repository. The first session gets the repo
 * itself; a second concurrent one gets a fresh worktree on its own branch (we say where), then
 * `claude` runs there with your arguments untouched. On exit the session is released: a worktree
 * with no changes is removed, one with changes is kept and reported. The only other entry point
 * besides src/bin.ts: it owns its process (signals, exit code).
 */
import { spawn } from 'node:child_process';
import { findClaudeBinary } from './agents/claude/claude.js';
import { loadConfig } from './config/load.js';
import { withRegistry } from './core/registry.js';
import { processContext } from './core/context.js';
import { repoRoot } from './core/git.js';
import { findLocalByPid, heartbeatLocal, registerLocal, releaseLocal, type LocalClaim } from './core/local/sessions.js';
import { toAppError } from './errors.js';

const HEARTBEAT_MS = 60_000;
const args = process.argv.slice(2);
const ctx = processContext(new AbortController().signal);
const say = (s: string): void => void process.stderr.write(`claude-parallel: ${s}\n`);

let claude: string;
try {
  // This wrapper exists for claude alone; its binary is found as a run finds it (config `claudeBin`, env, PATH).
  const configured = loadConfig({ home: ctx.home, env: ctx.env }).config.claudeBin;
  claude = findClaudeBinary({ ...(configured ? { configured } : {}), ...(ctx.env.PATH ? { pathEnv: ctx.env.PATH } : {}) });
} catch (e) {
  const err = toAppError(e);
  say(`${err.message}${err.hint ? `\n  ${err.hint}` : ''}`);
  process.exit(err.exitCode);
}

// `claude --help`, `--version` and claude's own maintenance commands start no session: nothing to register.
const INFO_FLAGS = new Set(['-h', '--help', '-v', '--version']);
const INFO_COMMANDS = new Set(['update', 'doctor', 'mcp', 'config', 'install', 'setup-token', 'migrate-installer']);
const upTo = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
const informational = upTo.some((a) => INFO_FLAGS.has(a)) || INFO_COMMANDS.has(args[0] ?? '');
const inRepo = informational ? undefined : await repoRoot(process.cwd()).catch(() => undefined);
let claim: LocalClaim | undefined;
if (inRepo) {
  try {
    claim = await withRegistry(ctx, (sessions) => registerLocal(sessions, ctx, inRepo, process.pid), { create: true });
    if (claim.mode === 'worktree') say(`another claude session is active in ${claim.repo}; this one works in ${claim.path} on branch ${claim.branch ?? ''}`);
  } catch (e) {
    say(`could not register the session (${toAppError(e).message}); running claude in place`);
  }
}

const child = spawn(claude, args, { cwd: claim?.path ?? process.cwd(), stdio: 'inherit', env: { ...process.env, ...(claim ? { PARALLEL_CC_SESSION_ID: claim.sessionId } : {}) } });
// Ctrl-C reaches claude through the terminal's process group; other signals are passed on.
for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
process.on('SIGINT', () => undefined);
const beat = claim ? setInterval(() => void withRegistry(ctx, (s) => heartbeatLocal(s, process.pid, ctx.now())).catch(() => undefined), HEARTBEAT_MS) : undefined;
const code = await new Promise<number>((resolve) => {
  child.on('error', (e) => {
    say(`cannot start ${claude}: ${e.message}`);
    resolve(127);
  });
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 + 15 : 1)));
});
if (beat) clearInterval(beat);
if (claim) {
  try {
    const report = await withRegistry(ctx, async (sessions) => {
      const s = findLocalByPid(sessions, process.pid);
      return s ? releaseLocal(sessions, s, ctx.now()) : undefined;
    });
    if (report?.worktree) say(report.kept ? `kept ${report.worktree} (${report.reason}); review with: git -C ${claim.repo} log ${claim.branch ?? ''}` : `removed ${report.worktree} (no changes)`);
  } catch (e) {
    say(`could not release the session: ${toAppError(e).message}`);
  }
}
process.exit(code);
