import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SessionGuard } from './crash-guard.js';

/** A writable text sink (process.stdout / stderr, or a buffer in tests). */
export interface Sink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * Everything a command may touch from the outside world, injected so nothing reads module-global
 * state: working folder, environment, parallel-cc home, clock, and the output streams.
 */
export interface Context {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The parallel-cc home folder (PARALLEL_CC_HOME, default ~/.parallel-cc). */
  home: string;
  now: () => Date;
  stdout: Sink;
  stderr: Sink;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** The CLI's crash guard: sessions register here so an uncaught error still fails and stops them. */
  guard?: SessionGuard;
}

/** Resolves the parallel-cc home folder from the environment. */
export function resolveHome(env: NodeJS.ProcessEnv, userHome: string = homedir()): string {
  const explicit = env.PARALLEL_CC_HOME;
  return explicit && explicit.trim() !== '' ? resolve(explicit) : join(userHome, '.parallel-cc');
}

/** The context of this process (for the entry points only: everything else receives one). */
export function processContext(signal: AbortSignal): Context {
  return { cwd: process.cwd(), env: process.env, home: resolveHome(process.env), now: () => new Date(), stdout: process.stdout, stderr: process.stderr, signal };
}

/** Well-known paths below the home folder. */
export function homePaths(home: string): { db: string; sessions: string; worktrees: string } {
  return { db: join(home, 'coordinator.db'), sessions: join(home, 'sessions'), worktrees: join(home, 'worktrees') };
}
