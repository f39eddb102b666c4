import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { homePaths, type Context } from '../context.js';
import { concurrencyLimit } from '../limit.js';
import { pidAliveOnce } from '../pid.js';
import { openDb, type Db } from '../../store/db.js';
import { isTerminal, SessionRepository, type Session } from '../../store/sessions.js';
import { branchStat } from './branch.js';
import { emptyDigest, foldEgress, foldEvent, foldSkipped, type SessionDigest } from './digest.js';
import { buildModel, buildRow, type DashboardModel, type DiffStat, type ModelOptions } from './model.js';
import { FileTail, LINE_MAX, SKIPPED, sliceFor } from './tail.js';

/** How many `git diff --numstat` (branch stats of ended sessions) run at once. */
const GIT_AT_ONCE = 4;

/** One look (`--once`) reads a big log on for at most this many slices (a log that grows without end must not hold it). */
const CATCH_UP_SLICES = 256;

/** What the live dashboard shows and how. */
export interface LiveOptions extends ModelOptions {
  /** Show ended sessions that ended this long ago at most (default 12 h); Infinity for all. */
  endedWithinMs?: number;
  /** At most this many rows (newest first). */
  limit?: number;
  /** The safety re-scan and clock tick (default 1000 ms). */
  tickMs?: number;
  /** false: no fs.watch and no tick — nothing runs between two {@link LiveDashboard.look}s (a process that asks now and then). */
  watch?: boolean;
}

interface Tracked {
  digest: SessionDigest;
  events: FileTail | undefined;
  egress: FileTail | undefined;
  watcher: FSWatcher | undefined;
  dirty: boolean;
}

/**
 * The dashboard's live read model over the registry and every session's logs, for sessions of any
 * CLI process. New lines are read by offset when fs.watch says a session folder changed (and by a
 * slow re-scan, in case an event is lost); the registry is re-read when its files change and on
 * each tick, which also re-checks every owner pid, so a dead CLI's session turns `orphaned` within
 * a tick. Listeners get the new model after each change (coalesced).
 */
export class LiveDashboard {
  private db: Db | undefined;
  private repo: SessionRepository | undefined;
  private sessions: Session[] = [];
  private readonly tracked = new Map<string, Tracked>();
  private readonly stats = new Map<string, DiffStat>();
  private readonly statPending = new Set<string>();
  private readonly listeners = new Set<(m: DashboardModel) => void>();
  private homeWatcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private registryDirty = true;
  private current: DashboardModel | undefined;
  private ticks = 0;
  private stopped = false;

  constructor(
    private readonly ctx: Pick<Context, 'home' | 'now'>,
    private readonly opts: LiveOptions = {},
  ) {}

  /** Reads everything once and starts watching. */
  start(): DashboardModel {
    const home = this.ctx.home;
    if (this.opts.watch === false) return this.refresh();
    try {
      // The registry's files (db, -wal) change on every write by any CLI.
      if (existsSync(home)) this.homeWatcher = watch(home, { persistent: false }, (_e, f) => (String(f).startsWith('coordinator.db') ? this.markRegistry() : undefined));
    } catch {
      // no watch: the tick still re-reads
    }
    // Not unref'd: a dashboard lives until it is stopped (its watchers do not keep the process up).
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    return this.refresh();
  }

  /** The model as of the last refresh. */
  model(): DashboardModel {
    return this.current ?? this.refresh();
  }

  /** Calls `fn` with every new model; returns the unsubscribe. */
  subscribe(fn: (m: DashboardModel) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The registry row of a session shown (for drill-down and actions). */
  session(id: string): Session | undefined {
    return this.sessions.find((s) => s.id === id);
  }

  /** The digest of a session's logs (for drill-down). */
  digest(id: string): SessionDigest | undefined {
    return this.tracked.get(id)?.digest;
  }

  /** The branch diff stats known so far (ended sessions). */
  diffStats(): ReadonlyMap<string, DiffStat> {
    return this.stats;
  }

  /** Stops watching and closes the registry. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pending);
    this.homeWatcher?.close();
    for (const t of this.tracked.values()) t.watcher?.close();
    this.tracked.clear();
    this.db?.close();
    this.db = undefined;
  }

  private markRegistry(): void {
    this.registryDirty = true;
    this.schedule();
  }

  private tick(): void {
    this.ticks += 1;
    this.registryDirty = true;
    // Every fifth tick: re-read every log too, in case a watch event was lost.
    if (this.ticks % 5 === 0) for (const t of this.tracked.values()) t.dirty = true;
    this.emit();
  }

  /** Coalesces bursts of file events into one refresh. */
  private schedule(): void {
    if (this.pending || this.stopped || this.opts.watch === false) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.emit();
    }, 20);
  }

  private emit(): void {
    if (this.stopped) return;
    const m = this.refresh();
    for (const fn of this.listeners) fn(m);
  }

  private loadRegistry(): void {
    if (!this.repo) {
      const path = homePaths(this.ctx.home).db;
      // Read-only: a registry that does not exist yet is not created here; it shows no sessions.
      if (!existsSync(path)) return;
      this.db = openDb(path);
      this.repo = new SessionRepository(this.db, this.ctx.now);
    }
    const now = this.ctx.now().getTime();
    const within = this.opts.endedWithinMs ?? 12 * 3600_000;
    this.sessions = this.repo
      .list({ kind: 'sandbox', limit: this.opts.limit ?? 500 })
      .filter((s) => !isTerminal(s.status) || within === Infinity || now - Date.parse(s.completedAt ?? s.updatedAt) <= within);
  }

  private track(s: Session): Tracked {
    let t = this.tracked.get(s.id);
    if (!t) {
      t = { digest: emptyDigest(), events: undefined, egress: undefined, watcher: undefined, dirty: true };
      this.tracked.set(s.id, t);
    }
    const dir = s.sessionDir;
    if (dir && !t.events) [t.events, t.egress] = [new FileTail(join(dir, 'events.ndjson')), new FileTail(join(dir, 'egress.ndjson'))];
    // A folder made after the row (or not there yet): watched once it exists; until then the tick reads.
    if (dir && !t.watcher && this.opts.watch !== false && !isTerminal(s.status) && existsSync(dir)) {
      const tr = t;
      try {
        tr.watcher = watch(dir, { persistent: false }, () => {
          tr.dirty = true;
          this.schedule();
        });
      } catch {
        // gone meanwhile
      }
    }
    return t;
  }

  private readLogs(s: Session, t: Tracked, slice: number): void {
    if (!t.dirty) return;
    t.dirty = false;
    const now = this.ctx.now().getTime();
    for (const line of t.events?.read(slice) ?? []) {
      if (line === SKIPPED) foldSkipped(t.digest, 'events', LINE_MAX);
      else foldEvent(t.digest, line, now);
    }
    for (const line of t.egress?.read(slice) ?? []) {
      if (line === SKIPPED) foldSkipped(t.digest, 'egress', LINE_MAX);
      else foldEgress(t.digest, line);
    }
    // A big log is read a slice per refresh: the rest in the next one, soon (see refresh).
    if (t.events?.behind || t.egress?.behind) [t.dirty, this.lagging] = [true, true];
    if (isTerminal(s.status) && t.watcher) {
      t.watcher.close();
      t.watcher = undefined;
    }
  }

  /** True when the last refresh left a log with more to read. */
  private lagging = false;

  /** Resolves once the logs are read to their end (at most {@link CATCH_UP_SLICES} more slices each) and the branch stats asked for so far are known. */
  async settled(): Promise<void> {
    for (let i = 0; this.lagging && i < CATCH_UP_SLICES; i++) {
      await new Promise((r) => setImmediate(r));
      this.refresh();
    }
    while (this.statPending.size > this.stats.size + this.statFailed) await new Promise((r) => setTimeout(r, 10));
  }

  private statFailed = 0;
  private readonly gitSlots = concurrencyLimit(GIT_AT_ONCE);

  private wantStat(s: Session): void {
    if (!isTerminal(s.status) || this.stats.has(s.id) || this.statPending.has(s.id) || !s.branch) return;
    this.statPending.add(s.id);
    // Up to 500 ended sessions: a few `git diff`s at a time, not one process each at once.
    void this.gitSlots(() => (this.stopped ? Promise.resolve(undefined) : branchStat(s))).then((st) => {
      if (st) this.stats.set(s.id, st);
      else this.statFailed += 1;
      this.schedule();
    });
  }

  /**
   * The model now, complete: the registry and every log read on from where they were (by offset), the
   * logs to their end and the new ended sessions' branch stats waited for. Without watching, the
   * digests and stats stay between looks: a look reads only what is new.
   */
  async look(): Promise<DashboardModel> {
    this.registryDirty = true;
    for (const t of this.tracked.values()) t.dirty = true;
    this.refresh();
    await this.settled();
    return this.refresh();
  }

  /** Re-reads what changed and rebuilds the model. */
  refresh(): DashboardModel {
    if (this.registryDirty) {
      this.registryDirty = false;
      try {
        this.loadRegistry();
      } catch {
        // busy or mid-migration: the next tick reads it
      }
    }
    const now = this.ctx.now();
    // Many rows share an owner pid (a --multi batch): ask the kernel once per pid per refresh.
    const alive = this.opts.alive ?? pidAliveOnce();
    const shown = new Set(this.sessions.map((s) => s.id));
    for (const [id, t] of this.tracked) {
      if (shown.has(id)) continue;
      t.watcher?.close();
      this.tracked.delete(id);
    }
    const tracked = this.sessions.map((s) => [s, this.track(s)] as const);
    // One refresh reads a bounded amount over all logs with news, shared between them.
    const slice = sliceFor(tracked.filter(([, t]) => t.dirty).length);
    this.lagging = false;
    const rows = tracked.map(([s, t]) => {
      this.readLogs(s, t, slice);
      this.wantStat(s);
      return buildRow(s, t.digest, this.stats.get(s.id), now, { ...this.opts, alive });
    });
    this.current = buildModel(rows, now, this.opts);
    // Behind on a log: go on reading in a moment (the event loop, other logs and clients get their turn).
    if (this.lagging) this.schedule();
    return this.current;
  }
}

/** The read model once: read, nothing watched (MCP keeps a {@link LiveDashboard} with `watch: false` and asks it to {@link LiveDashboard.look}). */
export async function dashboardModel(ctx: Pick<Context, 'home' | 'now'>, opts: { all?: boolean } = {}): Promise<DashboardModel> {
  const live = new LiveDashboard(ctx, { watch: false, ...(opts.all ? { endedWithinMs: Infinity } : {}) });
  try {
    return await live.look();
  } finally {
    live.stop();
  }
}
