import { AppError } from '../../errors.js';
import { isTerminal, type Session, type SessionRepository } from '../../store/sessions.js';
import { pidAlive } from '../pid.js';

/** How a session looks from the outside right now. */
export type Liveness = 'active' | 'orphaned' | 'stale' | 'ended';

/** A session row plus what an observer can tell about it now (for status, logs, kill, cleanup). */
export interface SessionView extends Session {
  liveness: Liveness;
  /** Why it is orphaned/stale, when it is. */
  livenessReason?: string;
  ownerAlive: boolean;
  elapsedMs: number | null;
  ageMs: number;
}

/** Minutes without a heartbeat after which a local session is stale (config staleThresholdMinutes). */
export const DEFAULT_STALE_MINUTES = 10;

/**
 * Classifies a session: active (its owner process lives), orphaned (a sandbox session whose CLI died
 * before it ended), stale (a local session whose owner is gone or silent too long), or ended.
 */
export function viewSession(s: Session, now: Date, opts: ViewOptions = {}): SessionView {
  return Object.assign({}, s, classifySession(s, now, opts));
}

/** Options of {@link viewSession}: how to tell whether a pid lives, when a local session is stale. */
export interface ViewOptions {
  alive?: (pid: number | null) => boolean;
  staleMinutes?: number;
}

/** What {@link viewSession} adds to a row (status adds it to rows it owns, without copying them). */
export function classifySession(s: Session, now: Date, opts: ViewOptions = {}): Omit<SessionView, keyof Session> {
  const alive = opts.alive ?? pidAlive;
  const ownerAlive = alive(s.pid);
  const t = now.getTime();
  const started = s.startedAt ? Date.parse(s.startedAt) : null;
  const ended = s.completedAt ? Date.parse(s.completedAt) : null;
  let liveness: Liveness = 'active';
  let livenessReason: string | undefined;
  if (isTerminal(s.status)) liveness = 'ended';
  else if (s.kind === 'local') {
    const beat = s.heartbeatAt ? Date.parse(s.heartbeatAt) : Date.parse(s.createdAt);
    const limit = (opts.staleMinutes ?? DEFAULT_STALE_MINUTES) * 60_000;
    if (!ownerAlive) [liveness, livenessReason] = ['stale', `owner pid ${String(s.pid)} is gone`];
    else if (t - beat > limit) [liveness, livenessReason] = ['stale', `no heartbeat for ${Math.round((t - beat) / 60_000)} min`];
  } else if (!ownerAlive) [liveness, livenessReason] = ['orphaned', `the parallel-cc process (pid ${String(s.pid)}) that ran it is gone`];
  return { ownerAlive, ageMs: t - Date.parse(s.createdAt), elapsedMs: started === null ? null : (ended ?? t) - started, liveness, ...(livenessReason === undefined ? {} : { livenessReason }) };
}

/** "3m ago", "2h 5m", "45s" */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Session ids are 8 hex digits; anything else (paths, `../`) is refused before it is used. */
export function checkSessionId(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new AppError('usage', '--session-id is required', { hint: 'See the ids with `parallel-cc status --all`.' });
  if (!/^[0-9a-f]{4,8}$/.test(raw)) throw new AppError('usage', `"${raw}" is not a session id (8 hex digits, as shown by \`parallel-cc status\`)`);
  return raw;
}

/** Finds a session by id or unique id prefix. */
export function findSession(sessions: SessionRepository, raw: string | undefined): Session {
  const id = checkSessionId(raw);
  const exact = sessions.get(id);
  if (exact) return exact;
  const matches = sessions.list().filter((s) => s.id.startsWith(id));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length > 1) throw new AppError('usage', `session id prefix "${id}" is ambiguous (${matches.map((m) => m.id).join(', ')})`);
  throw new AppError('not_found', `no session ${id}`, { hint: 'See the ids with `parallel-cc status --all`.' });
}
