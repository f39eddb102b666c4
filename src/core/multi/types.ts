import type { HookResult } from '../hooks.js';
import type { StreamEvent, TokenUsage } from '../events.js';
import type { TaskStatus } from './scheduler.js';

/** Why a task did not complete (metadata.json `error.reason`). */
export type FailureReason =
  | 'agent_failed'
  | 'timed_out'
  | 'over_budget'
  | 'killed_by_fail_fast'
  /** Stopped on its own by `sandbox kill`; the rest of the batch went on. */
  | 'killed_by_user'
  | 'interrupted'
  | 'dependency_failed'
  | 'cancelled_by_fail_fast'
  | 'setup_failed'
  | 'results_failed'
  /** The task's --on-success check failed (its work is on its branch). */
  | 'check_failed'
  | 'download_failed';

/** A task's failure: machine reason, human message, and what to do. */
export interface TaskError {
  reason: FailureReason;
  message: string;
  hint?: string;
}

/** The outcome of one task (metadata.json, and one entry of summary.json). */
export interface TaskResult {
  taskId: string;
  /** Registry id (every task has a row, skipped ones too). */
  sessionId: string;
  status: TaskStatus;
  /** The task's exit code as a single run would have it; null when it never started. */
  exitCode: number | null;
  /** The ref it branched from (its own base, its dependency's branch, --base, or HEAD). */
  base: string;
  after: string[];
  branch: string | null;
  worktree: string | null;
  commits: number;
  filesChanged: string[];
  durationMs: number;
  /** Model cost plus, where the provider bills by time (E2B), the sandbox's estimated cost. */
  costUsd: number | null;
  usage: TokenUsage | null;
  /** When the agent started and the task ended (registry started_at / completed_at). */
  startedAt: string | null;
  completedAt: string | null;
  /** The session's full event log. */
  logPath: string | null;
  /** `<output-dir>/<task-id>`. */
  outputDir: string;
  error?: TaskError;
  /** The lifecycle hooks its session ran (`--setup`, `--on-success`, `--on-failure`). */
  hooks?: HookResult[];
}

/** The outcome of a whole --multi run (summary.json, and the final `multi_summary` event). */
export interface MultiSummary {
  groupId: string;
  repo: string;
  outputDir: string;
  startedAt: string;
  completedAt: string;
  /** Wall-clock time of the whole batch. */
  wallMs: number;
  /** Sum of the task durations: what running them one after another would have taken. */
  taskTimeMs: number;
  /** taskTimeMs - wallMs. */
  timeSavedMs: number;
  totalCostUsd: number | null;
  counts: Partial<Record<TaskStatus, number>>;
  /** 0 when every task completed, 130 after Ctrl-C, otherwise 1 (a task stopped by `sandbox kill` included). */
  exitCode: number;
  interrupted: boolean;
  /** --budget: the batch's limit, its exact spend, and whether reaching it stopped the tasks. */
  budget?: { usd: number; spentUsd: number; reached: boolean; message?: string };
  tasks: TaskResult[];
}

/** Live states of a task as the progress display shows them. */
export type TaskState = 'queued' | 'initializing' | 'running' | TaskStatus;

/** Events of a --multi run, in order; every per-task event names its task. */
export type MultiEvent =
  | { type: 'task'; ts?: string; taskId: string; state: TaskState; sessionId?: string; detail?: string; error?: string; hint?: string; result?: TaskResult }
  | { type: 'task_event'; taskId: string; event: StreamEvent }
  | { type: 'multi_summary'; summary: MultiSummary };
