import { existsSync, lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How `sandbox kill` stops one session that a live CLI runs. A signal to that CLI's pid cannot name
 * a session, and a `--multi` batch runs many sessions in one process: SIGTERM would stop them all.
 * So `kill` writes a request into the session's folder on the host (never visible to a sandbox), and
 * the owning CLI, which polls for it, stops exactly that session and records who stopped it. Taking
 * the request renames it, which tells `kill` the owner has it.
 */
export interface KillRequest {
  /** Who asked, for the record: "`parallel-cc sandbox kill` (pid 1234)". */
  by: string;
  at: string;
  /** false: stop without bringing the work back (--no-download). */
  collect: boolean;
}

const REQUEST = 'kill-request.json';
const TAKEN = 'kill-request.taken.json';
const POLL_MS = 250;

/** Writes a kill request for the session whose folder is `sessionDir` (atomically: write, then rename). */
export function requestKill(sessionDir: string, req: KillRequest): void {
  const tmp = join(sessionDir, `${REQUEST}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(req), { mode: 0o600 });
  renameSync(tmp, join(sessionDir, REQUEST));
}

/** Withdraws a request nobody took (the owner is an older CLI or stuck); true if it was still there. */
export function withdrawKill(sessionDir: string): boolean {
  const p = join(sessionDir, REQUEST);
  if (!existsSync(p)) return false;
  rmSync(p, { force: true });
  return true;
}

/** Waits up to `ms` for the owner to take the request. */
export async function killTaken(sessionDir: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (existsSync(join(sessionDir, TAKEN))) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function parse(text: string): KillRequest | undefined {
  try {
    const v = JSON.parse(text) as Partial<KillRequest>;
    if (typeof v.by !== 'string' || typeof v.at !== 'string') return undefined;
    return { by: v.by.slice(0, 200), at: v.at, collect: v.collect !== false };
  } catch {
    return undefined;
  }
}

/** The owner's side: one session's stop switch, fed by the outer signal (Ctrl-C, fail-fast) and kill requests. */
export interface KillSwitch {
  /** Aborted by the outer signal or by a kill request. */
  signal: AbortSignal;
  /** The request that stopped the session, if one did. */
  request(): KillRequest | undefined;
  stop(): void;
}

/** Starts watching `sessionDir` for a kill request (a stale one from before is ignored). */
export function watchKill(sessionDir: string, outer: AbortSignal): KillSwitch {
  rmSync(join(sessionDir, TAKEN), { force: true });
  const own = new AbortController();
  let taken: KillRequest | undefined;
  const timer = setInterval(() => {
    const p = join(sessionDir, REQUEST);
    if (!existsSync(p)) return;
    try {
      const t = join(sessionDir, TAKEN);
      renameSync(p, t);
      // Only a plain file is read (never a planted symlink): the text ends up in the registry.
      taken = (lstatSync(t).isFile() ? parse(readFileSync(t, 'utf8')) : undefined) ?? { by: 'a kill request', at: new Date().toISOString(), collect: true };
    } catch {
      return;
    }
    clearInterval(timer);
    own.abort();
  }, POLL_MS);
  timer.unref();
  return { signal: AbortSignal.any([outer, own.signal]), request: () => taken, stop: () => clearInterval(timer) };
}
