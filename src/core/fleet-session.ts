import type { Config } from '../config/schema.js';
import { openDb, type Db } from '../store/db.js';
import type { SessionRepository } from '../store/sessions.js';
import type { RunEvent, StreamEvent, TokenUsage } from './events.js';
import { Fleet, fleetLimits, type FleetMember } from './net/fleet.js';
import { SqliteFleetStore } from './net/fleet-store.js';

/** How often, at most, a session's live cost is written to its row (the last value is always written). */
export const COST_WRITE_MS = 500;

/** The fleet of a CLI process from config `modelApi`, sharing its state with other processes through the registry at `db`. */
export function processFleet(config: Config, db: Db | undefined, batchBudgetUsd?: number): Fleet {
  return new Fleet({
    limits: fleetLimits(config.modelApi),
    ...(db ? { store: new SqliteFleetStore(db) } : {}),
    maxRetries: config.modelApi.maxRetries,
    ...(batchBudgetUsd !== undefined ? { batchBudgetUsd } : {}),
  });
}

/** A session's membership: the broker's gate, plus what the orchestrator needs at the end. */
export interface SessionFleet {
  member: FleetMember;
  /** Registers what stops the agent when a budget is reached (called at once if one already is). */
  onStop: (stop: (reason: string) => void) => void;
  /** Writes the last cost to the row and leaves the fleet. */
  leave: () => void;
}

/**
 * Joins a session to the fleet: its `model_api` events go to its stream and log, the waits and
 * holds to its row's last_activity (what `status` and the dashboard show), its exact cost to its
 * row's cost_usd as it grows (throttled).
 */
export function joinFleet(fleet: Fleet, opts: { sessionId: string; sessions: SessionRepository; budgetUsd?: number; emit: (e: Extract<RunEvent, { type: 'model_api' }>) => void }): SessionFleet {
  const { sessionId, sessions } = opts;
  let stopper: ((reason: string) => void) | undefined;
  let stopReason: string | undefined;
  let pending: number | undefined;
  let written = 0;
  let timer: NodeJS.Timeout | undefined;
  // After leaving, the row is the orchestrator's: an answer still ending then writes nothing.
  let left = false;
  const write = (): void => {
    timer = undefined;
    if (pending === undefined || left) return;
    sessions.update(sessionId, { costUsd: pending });
    written = Date.now();
    pending = undefined;
  };
  const member = fleet.join({
    sessionId,
    ...(opts.budgetUsd !== undefined ? { budgetUsd: opts.budgetUsd } : {}),
    emit: (e) => {
      if (left) return;
      opts.emit(e);
      if (e.state !== 'budget_reached') sessions.update(sessionId, { lastActivity: e.message });
    },
    onCost: (usd) => {
      pending = usd;
      if (timer || left) return;
      const wait = Math.max(0, COST_WRITE_MS - (Date.now() - written));
      if (wait === 0) write();
      else timer = setTimeout(write, wait);
    },
    onStop: (reason) => {
      stopReason ??= reason;
      stopper?.(reason);
    },
  });
  return {
    member,
    onStop: (stop) => {
      stopper = stop;
      if (stopReason !== undefined) stop(stopReason);
    },
    leave: () => {
      if (timer) clearTimeout(timer);
      write();
      left = true;
      member.leave();
    },
  };
}

/**
 * The session's membership of `fleet` (a --multi batch's), or of a fleet of its own for a single
 * run, whose state is shared with the machine's other parallel-cc processes through the registry
 * at `dbPath` (its own connection, closed when the session leaves).
 */
export function openSessionFleet(
  fleet: Fleet | undefined,
  opts: { config: Config; dbPath: string; sessionId: string; sessions: SessionRepository; budgetUsd?: number; emit: (e: Extract<RunEvent, { type: 'model_api' }>) => void },
): SessionFleet {
  const db = fleet ? undefined : openDb(opts.dbPath);
  const own = fleet ?? processFleet(opts.config, db);
  const joined = joinFleet(own, opts);
  return {
    ...joined,
    leave: () => {
      joined.leave();
      if (fleet) return;
      own.close();
      db?.close();
    },
  };
}

/**
 * The session's cost: the broker's (every answer's usage × its model's price) once it read any,
 * else what the agent reported. The agent's own figure (claude's closing `total_cost_usd`) is kept
 * in the log when the two differ: the broker also sees the requests the agent never reports
 * (retries, side requests) and prices them with the one pricing module.
 */
export function meteredCost(fleet: SessionFleet, agentCost: number | null, agentUsage: TokenUsage | null, emit: (e: Extract<StreamEvent, { type: 'debug' }>) => void): [number | null, TokenUsage | null] {
  if (!fleet.member.metered()) return [agentCost, agentUsage];
  const cost = fleet.member.costUsd();
  if (agentCost !== null && Math.abs(agentCost - cost) >= 0.000_001) emit({ type: 'debug', message: `model cost: the broker measured $${cost.toFixed(6)}, the agent reported $${agentCost.toFixed(6)}; the broker's is recorded` });
  return [cost, fleet.member.usage()];
}
