import { randomBytes } from 'node:crypto';
import type { Db } from '../../store/db.js';
import { pidAlive } from '../pid.js';
import { admit, WINDOW_SLACK_MS, type Admission, type FleetLimits, type FleetStore, type Hold } from './fleet-limiter.js';

/** A request still "in flight" after this long belongs to a process that lost track of it: dropped. */
const STALE_MS = 30 * 60_000;

/**
 * The fleet state in the registry (tables model_api_requests and model_api_hold, migration 014):
 * every parallel-cc process of the machine sees the others' requests and holds. Each admission is
 * one BEGIN IMMEDIATE transaction (check and claim together), so two processes never both take
 * the last place.
 */
export class SqliteFleetStore implements FleetStore {
  constructor(
    private readonly db: Db,
    private readonly pid: number = process.pid,
    private readonly alive: (pid: number) => boolean = pidAlive,
  ) {}

  tryAcquire(now: number, limits: FleetLimits, holder: string): Admission {
    const span = limits.windowMs + WINDOW_SLACK_MS;
    const run = this.db.transaction((): Admission => {
      this.db.prepare('DELETE FROM model_api_requests WHERE (ended_at IS NOT NULL AND started_at <= ?) OR (ended_at IS NULL AND started_at <= ?)').run(now - span, now - STALE_MS);
      const open = this.db.prepare('SELECT lease, pid FROM model_api_requests WHERE ended_at IS NULL').all() as Array<{ lease: string; pid: number }>;
      const dead = open.filter((r) => r.pid !== this.pid && !this.alive(r.pid));
      for (const r of dead) this.db.prepare('UPDATE model_api_requests SET ended_at = ? WHERE lease = ?').run(now, r.lease);
      const window = (this.db.prepare('SELECT started_at AS at, tokens, ended_at IS NULL AS open FROM model_api_requests WHERE started_at > ? OR ended_at IS NULL').all(now - span) as Array<{ at: number; tokens: number; open: number }>).map((w) => ({ at: w.at, tokens: w.tokens, open: w.open === 1 }));
      const a = admit(now, limits, { inFlight: open.length - dead.length, window, hold: this.holdState(now) });
      if (!a.ok) return a;
      const lease = randomBytes(8).toString('hex');
      this.db.prepare('INSERT INTO model_api_requests (lease, pid, session_id, started_at) VALUES (?, ?, ?, ?)').run(lease, this.pid, holder, now);
      return { ok: true, lease };
    });
    return run.immediate();
  }

  answered(lease: string, now: number): void {
    this.quietly(() => this.db.prepare('UPDATE model_api_requests SET started_at = ? WHERE lease = ? AND ended_at IS NULL').run(now, lease));
  }

  release(lease: string, now: number, tokens: number): void {
    this.quietly(() => this.db.prepare('UPDATE model_api_requests SET ended_at = ?, tokens = ? WHERE lease = ?').run(now, Math.round(tokens), lease));
  }

  /**
   * Writes that follow an answer run in stream event handlers, possibly after the session closed
   * its registry connection (a stream still ending after the agent was stopped): they must never
   * throw there. A lease left open is ended by the stale and dead-process rules.
   */
  private quietly(write: () => unknown): void {
    try {
      write();
    } catch {
      // The registry is closed or busy past its timeout: the next admission tidies up.
    }
  }

  hold(until: number, reason: string, now: number): void {
    if (!this.db.open) return;
    this.db
      .prepare('INSERT INTO model_api_hold (id, until_ms, reason, set_at, pid) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET until_ms = excluded.until_ms, reason = excluded.reason, set_at = excluded.set_at, pid = excluded.pid WHERE excluded.until_ms > model_api_hold.until_ms')
      .run(Math.round(until), reason, now, this.pid);
  }

  holdState(now: number): Hold | undefined {
    const row = this.db.prepare('SELECT until_ms AS until, reason FROM model_api_hold WHERE id = 1').get() as Hold | undefined;
    return row && row.until > now ? row : undefined;
  }
}

/**
 * The fleet-wide hold in force now, read from the registry at `dbPath` without creating or
 * migrating it (`status` and the dashboard): undefined when there is none, or no registry yet.
 */
export async function readFleetHold(dbPath: string, now: number): Promise<(Hold & { resumeInMs: number }) | undefined> {
  const { default: Database } = await import('better-sqlite3');
  let db: Db | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT until_ms AS until, reason FROM model_api_hold WHERE id = 1').get() as Hold | undefined;
    return row && row.until > now ? { ...row, resumeInMs: row.until - now } : undefined;
  } catch {
    // No registry, or one from before migration 014: no hold.
    return undefined;
  } finally {
    db?.close();
  }
}
