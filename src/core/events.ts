import type { AlertMetric } from './alerts.js';
import type { HookName, HookResult } from './hooks.js';
import type { RunReason } from './outcome.js';

/**
 * The events of a run, as rendered live and written to the session log (one JSON object per line).
 * Agent adapters turn their tool's output into these; the orchestrator adds lifecycle events.
 */
export type AgentEvent =
  | { type: 'init'; model?: string; cwd?: string; agentSessionId?: string; tools?: string[] }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; toolUseId: string; content: string; isError: boolean }
  | {
      type: 'result';
      isError: boolean;
      subtype?: string;
      text?: string;
      durationMs?: number;
      numTurns?: number;
      costUsd?: number;
      usage?: TokenUsage;
    }
  /**
   * The agent's model API call failed and is retried (claude's `system`/`api_retry`): `status` is the
   * HTTP status, null when no answer came at all (connection refused, DNS, TLS).
   */
  | { type: 'api_retry'; attempt: number; maxRetries?: number; delayMs?: number; status: number | null; error?: string }
  | { type: 'stderr'; text: string }
  | { type: 'raw'; line: string };

/** Token counts of a run. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
}

/** Lifecycle phases of a session, announced as `phase` events. */
export type Phase = 'preparing' | 'worktree' | 'sandbox' | 'upload' | 'update' | 'hook' | 'running' | 'collecting' | 'importing' | 'cleanup' | 'done';

/** Events the orchestrator itself emits. */
export type RunEvent =
  | { type: 'phase'; phase: Phase; message: string }
  | { type: 'warning'; message: string }
  /** A monitoring threshold was crossed (config `alertThresholds`); once per threshold and run. */
  | { type: 'alert'; metric: AlertMetric; value: number; threshold: number; message: string }
  /** A line of a lifecycle hook's output (`--setup`, `--on-success`, `--on-failure`; run in the sandbox). */
  | { type: 'hook'; hook: HookName; stream: 'stdout' | 'stderr'; text: string }
  /** Step-by-step detail, shown on stderr with PARALLEL_CC_LOG_LEVEL=debug or --verbose. */
  | { type: 'debug'; message: string }
  | { type: 'egress'; host: string; port: number; allowed: boolean; reason?: string; via?: 'npm' | 'git'; method?: string; path?: string }
  /** Estimated cost of the sandbox's time so far (providers that bill by time, e.g. E2B). */
  | { type: 'cost'; sandboxUsd: number; sandboxSeconds: number; usdPerHour: number }
  /**
   * The credential broker's view of the model API fleet (core/net/fleet.ts): a request waiting for
   * the fleet's limits, the whole fleet held after a 429/529 ("resuming in 12 s"), requests going
   * again, or a budget reached (the session's requests are refused from then on).
   */
  | { type: 'model_api'; state: 'waiting' | 'rate_limited' | 'resumed' | 'budget_reached'; message: string; resumeInMs?: number }
  | { type: 'summary'; summary: RunSummary };

/** Anything that appears on the event stream. */
export type StreamEvent = (AgentEvent | RunEvent) & {
  ts?: string;
  sessionId?: string;
  /** For agent events: the agent's stdout line they came from (1-based), so a later follow resumes after it. */
  agentLine?: number;
};

/** The final outcome of one run (also the `--json` summary object). */
export interface RunSummary {
  sessionId: string;
  status: 'completed' | 'failed' | 'timed_out' | 'killed' | 'over_budget';
  exitCode: number;
  /** Why it did not complete (core/outcome.ts's settle step); absent when it completed. */
  reason?: RunReason;
  repo: string;
  branch: string;
  worktree: string | null;
  baseCommit: string;
  /** Commits on the branch beyond baseCommit (`git log baseCommit..branch`): the agent's, plus the working-state snapshot when one was made. */
  commits: number;
  filesChanged: string[];
  costUsd: number | null;
  /** Estimated cost of the sandbox's time (providers that bill by time); absent elsewhere. */
  sandboxCostUsd?: number;
  usage: TokenUsage | null;
  durationMs: number;
  logPath: string;
  egressDenied: number;
  /** The lifecycle hooks that ran, in order. */
  hooks?: HookResult[];
  /** Who stopped the session from outside (`sandbox kill`), when it was killed that way. */
  killedBy?: string;
  error?: string;
  hint?: string;
}

/** Splits a byte stream into lines, keeping a partial last line for the next chunk. */
export class LineSplitter {
  private rest = '';
  private readonly decoder = new TextDecoder('utf-8');

  /** Feeds a chunk; returns the complete lines it finished. */
  push(chunk: Buffer): string[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines;
  }

  /** Returns the last unterminated line, if any. */
  flush(): string[] {
    const last = this.rest + this.decoder.decode();
    this.rest = '';
    return last === '' ? [] : [last];
  }
}
