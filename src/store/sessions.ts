import type { Db } from './db.js';

/** Lifecycle states of a session. Terminal: all but pending, initializing and running. */
export const SESSION_STATUSES = ['pending', 'initializing', 'running', 'completed', 'failed', 'timed_out', 'killed', 'over_budget', 'skipped'] as const;
/** A session lifecycle state. */
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** True for states a session never leaves. */
export function isTerminal(status: SessionStatus): boolean {
  return status !== 'pending' && status !== 'initializing' && status !== 'running';
}

/** One row of the registry, in camelCase. */
export interface Session {
  id: string;
  kind: 'sandbox' | 'local';
  repoPath: string;
  baseRef: string | null;
  baseCommit: string | null;
  branch: string | null;
  worktreePath: string | null;
  provider: string;
  /** The agent CLI (agents/registry.ts); null on rows from before the column (they ran claude) and local sessions. */
  agent: string | null;
  sandboxId: string | null;
  status: SessionStatus;
  promptHash: string | null;
  promptPath: string | null;
  promptExcerpt: string | null;
  pid: number | null;
  timeoutSeconds: number | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
  exitCode: number | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  outputLogPath: string | null;
  sessionDir: string | null;
  error: string | null;
  commits: number | null;
  filesChanged: number | null;
  lastActivityAt: string | null;
  lastActivity: string | null;
  groupId: string | null;
  taskId: string | null;
  heartbeatAt: string | null;
  cleanedAt: string | null;
  sandboxStart: string | null;
  /** When the sandbox was created (providers that bill by time). */
  sandboxCreatedAt: string | null;
  /** Estimated cost of the sandbox's time, USD (providers that bill by time). */
  sandboxCostUsd: number | null;
  /** The session's sandbox folder on the host (core/sandbox-dir.ts); null for cloud sandboxes and old rows. */
  sandboxDir: string | null;
  /** Why it did not complete: core/outcome.ts `RunReason` (null while running, when completed, and on old rows). */
  reason: string | null;
  /** The components the run installed: a JSON array of `kind:name (source)` labels; null when none. */
  components: string | null;
  /** The lifecycle hooks that ran: a JSON array of core/hooks.ts HookResult; null when none. */
  hooks: string | null;
  /** Monitoring alerts that fired: a JSON array of core/alerts.ts AlertFired; null when none. */
  alerts: string | null;
  /** When the session took its provider slot (rate limits); null when no limit applied. */
  slotAt: string | null;
  /** The saved workflow this session ran for (`workflow run`); null otherwise. */
  workflow: string | null;
  /** A retried attempt of a workflow run: the id of its first attempt; null on the first and elsewhere. */
  attemptOf: string | null;
  /** The run's environment template (`--template`); null when none. */
  template: string | null;
  /** The branch `parallel-cc merge` landed this session's branch into (013); null until then. */
  mergedInto: string | null;
  /** The commit that landed it (merge, squash or rebased tip). */
  mergedCommit: string | null;
  mergedAt: string | null;
  /** A `sandbox resume` child: the session it continues (013); null otherwise. */
  resumedFrom: string | null;
}

/** Fields that may be set when a session is created. */
export type NewSession = Pick<Session, 'id' | 'repoPath' | 'provider'> & Partial<Omit<Session, 'createdAt' | 'updatedAt'>>;
/** Fields that may be changed later. */
export type SessionPatch = Partial<Omit<Session, 'id' | 'createdAt' | 'updatedAt'>>;

const toSnake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
// Column names are few and fixed: convert each once (status maps thousands of rows).
const camelNames = new Map<string, string>();
const toCamel = (k: string): string => {
  let c = camelNames.get(k);
  if (c === undefined) {
    c = k.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase());
    camelNames.set(k, c);
  }
  return c;
};

function fromRow(row: Record<string, unknown>): Session {
  const out: Record<string, unknown> = {};
  for (const k in row) out[toCamel(k)] = row[k];
  return out as unknown as Session;
}

/** Filters for {@link SessionRepository.list}. */
export interface SessionQuery {
  repoPath?: string;
  /** Only sessions of this saved workflow. */
  workflow?: string;
  statuses?: readonly SessionStatus[];
  kind?: Session['kind'];
  limit?: number;
}

/**
 * Typed access to the sessions table. The only module that writes SQL for it. `now` is injected so
 * tests control the clock.
 */
export class SessionRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Inserts a new session row (status defaults to pending). */
  create(input: NewSession): Session {
    const ts = this.now().toISOString();
    const row: Record<string, unknown> = { kind: 'sandbox', status: 'pending', ...input, createdAt: ts, updatedAt: ts };
    const keys = Object.keys(row);
    this.db
      .prepare(`INSERT INTO sessions (${keys.map(toSnake).join(', ')}) VALUES (${keys.map((k) => `@${k}`).join(', ')})`)
      .run(row);
    return this.require(input.id);
  }

  /** Updates some fields of a session; updated_at is set automatically. */
  update(id: string, patch: SessionPatch): Session {
    const row: Record<string, unknown> = { ...patch, updatedAt: this.now().toISOString() };
    const keys = Object.keys(row).filter((k) => row[k] !== undefined);
    this.db.prepare(`UPDATE sessions SET ${keys.map((k) => `${toSnake(k)} = @${k}`).join(', ')} WHERE id = @id`).run({
      ...Object.fromEntries(keys.map((k) => [k, row[k]])),
      id,
    });
    return this.require(id);
  }

  /**
   * Claims a sandbox slot for session `id` under its provider's rate limits, atomically (BEGIN
   * IMMEDIATE: two CLIs cannot both take the last slot). Holders are the provider's sessions with a
   * claimed slot that have not ended and whose CLI lives (`alive`); the per-minute limit counts slots
   * claimed in the last 60 s. Returns why the session must wait, or undefined once claimed.
   */
  claimSlot(id: string, provider: string, limits: { maxConcurrent?: number; perMinute?: number }, alive: (pid: number | null) => boolean): string | undefined {
    const claim = this.db.transaction((): string | undefined => {
      const now = this.now();
      const minuteAgo = new Date(now.getTime() - 60_000).toISOString();
      const rows = this.db
        .prepare("SELECT pid, status, slot_at AS slotAt FROM sessions WHERE provider = ? AND slot_at IS NOT NULL AND id != ? AND (status IN ('pending', 'initializing', 'running') OR slot_at >= ?)")
        .all(provider, id, minuteAgo) as Array<{ pid: number | null; status: SessionStatus; slotAt: string }>;
      const active = rows.filter((r) => !isTerminal(r.status) && alive(r.pid)).length;
      if (limits.maxConcurrent !== undefined && active >= limits.maxConcurrent) return `${active} of ${limits.maxConcurrent} ${provider} sandboxes in use (limits.${provider}.maxConcurrentSandboxes)`;
      const recent = rows.filter((r) => r.slotAt >= minuteAgo).length;
      if (limits.perMinute !== undefined && recent >= limits.perMinute) return `${recent} ${provider} sandboxes started in the last minute (limits.${provider}.sandboxesPerMinute is ${limits.perMinute})`;
      this.db.prepare('UPDATE sessions SET slot_at = ?, updated_at = ? WHERE id = ?').run(now.toISOString(), now.toISOString(), id);
      return undefined;
    });
    return claim.immediate();
  }

  /** Returns a session, or undefined. */
  get(id: string): Session | undefined {
    const row = this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Returns a session that must exist. */
  require(id: string): Session {
    const s = this.get(id);
    if (!s) throw new Error(`session ${id} vanished from the registry`);
    return s;
  }

  /** Lists sessions, newest first. */
  list(q: SessionQuery = {}): Session[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (q.repoPath !== undefined) {
      where.push('repo_path = @repoPath');
      params.repoPath = q.repoPath;
    }
    if (q.workflow !== undefined) {
      where.push('workflow = @workflow');
      params.workflow = q.workflow;
    }
    if (q.kind !== undefined) {
      where.push('kind = @kind');
      params.kind = q.kind;
    }
    if (q.statuses && q.statuses.length > 0) {
      where.push(`status IN (${q.statuses.map((_, i) => `@s${i}`).join(', ')})`);
      q.statuses.forEach((s, i) => (params[`s${i}`] = s));
    }
    const sql = `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id ${
      q.limit ? `LIMIT ${Math.floor(q.limit)}` : ''
    }`;
    // Rows as arrays, named once: one object per session instead of two (status lists thousands).
    const stmt = this.db.prepare(sql);
    const names = stmt.columns().map((c) => toCamel(c.name));
    return (stmt.raw(true).all(params) as unknown[][]).map((values) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i] as string] = values[i];
      return out as unknown as Session;
    });
  }

  /**
   * Runs `fn` in one BEGIN IMMEDIATE transaction: the write lock is taken up front, so two processes
   * deciding on the same rows (who gets the main checkout) are strictly serialized.
   */
  exclusive<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * The sessions of `repoPath` on `branch` that have not ended and were registered before `id`
   * (insertion order, SQLite's rowid — not a timestamp, which two processes take apart from their
   * inserts). Two runs that continue the same worktree at once both pass the CLI's check; at run
   * time only the first registered may go on.
   */
  liveOnBranchBefore(id: string, repoPath: string, branch: string): Session[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM sessions WHERE repo_path = ? AND branch = ? AND id != ? AND status IN ('pending', 'initializing', 'running') AND rowid < (SELECT rowid FROM sessions WHERE id = ?)",
      )
      .all(repoPath, branch, id, id) as Array<Record<string, unknown>>;
    return rows.map(fromRow);
  }

  /** True if a session id is already taken. */
  exists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(id) !== undefined;
  }
}
