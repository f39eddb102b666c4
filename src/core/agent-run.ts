import type { Agent, AgentLaunch } from '../agents/agent.js';
import type { ExecRequest, SandboxHandle, SandboxProvider } from '../providers/provider.js';
import { LineSplitter, type AgentEvent, type RunEvent, type RunSummary, type TokenUsage } from './events.js';
import { CostMeter, roundUsd } from './pricing.js';
import { resultAuthFailure, retryVerdict, type ApiFailure } from './api-errors.js';
import { TrailerSplit, type StepResult } from './exec-trailer.js';

/** How the agent process ended, as the orchestrator sees it. */
export interface AgentOutcome {
  outcome: RunSummary['status'];
  exitCode: number | null;
  result?: Extract<AgentEvent, { type: 'result' }>;
  error?: string;
  /** What to do about `error` (e.g. a rejected key). */
  hint?: string;
  /** Running estimate from the responses' usage (set when a budget was given). */
  estimate?: { costUsd: number; usage: TokenUsage };
  /** What the chained steps ({@link AgentRunOptions.then}) printed, when they ran and their trailer came whole. */
  then?: StepResult[];
}

/** Options of {@link runAgent}. */
export interface AgentRunOptions {
  timeoutMinutes: number;
  signal: AbortSignal;
  /** Agent events carry `agentLine`: the stdout line they came from. */
  emit: (e: (AgentEvent & { agentLine?: number }) | Extract<RunEvent, { type: 'warning' }>) => void;
  onActivity: (what: string) => void;
  /** Stop the agent once its estimated cost passes this many USD (outcome `over_budget`). */
  budgetUsd?: number;
  /** The credential broker's reason when it could not reach the model API on its last attempt. */
  apiUnreachable?: () => string | undefined;
  /** The model the run asked for (agents that report no cost price their usage with it). */
  model?: string;
  /** The broker's budgets (core/fleet-session.ts): registers the stop called once one is reached (outcome `over_budget`). */
  budgetStop?: (stop: (reason: string) => void) => void;
  /** Commands run after the agent exits, in the same sandbox command (providers with `chainedExec`). */
  then?: NonNullable<ExecRequest['then']>['steps'];
}

/** Fractions of the timeout at which a warning is shown (spec 000: 50% and 83%). */
export const TIMEOUT_WARNINGS = [0.5, 0.83] as const;

/** Streams the agent's events until it exits, is timed out, or is interrupted. */
export async function runAgent(provider: SandboxProvider, sandbox: SandboxHandle, agent: Agent, launch: AgentLaunch, opts: AgentRunOptions): Promise<AgentOutcome> {
  const { timeoutMinutes, signal, emit, onActivity, budgetUsd } = opts;
  // Kept inside the sandbox as `agent` too: where the sandbox outlives the CLI, another CLI follows it.
  const mark = opts.then && TrailerSplit.newMark();
  const trailer = mark ? new TrailerSplit(mark) : undefined;
  const handle = provider.execute(sandbox, { argv: launch.argv, env: launch.env, stdin: launch.stdin, network: true, logName: 'agent', ...(opts.then && mark ? { then: { steps: opts.then, mark } } : {}) });
  let timedOut = false;
  let interrupted = false;
  const budgetMs = timeoutMinutes * 60_000;
  const timers = TIMEOUT_WARNINGS.map((f) =>
    setTimeout(() => {
      const left = Math.max(0, Math.round((budgetMs * (1 - f)) / 1000));
      emit({ type: 'warning', message: `${Math.round(f * 100)}% of the ${timeoutMinutes}-minute timeout used; the agent is stopped in ${left}s` });
    }, budgetMs * f),
  );
  timers.push(
    setTimeout(() => {
      timedOut = true;
      void handle.kill();
    }, budgetMs),
  );
  const onAbort = (): void => {
    interrupted = true;
    void handle.kill();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  let result: AgentOutcome['result'];
  let chained: AgentOutcome['then'];
  let lastActivity = 0;
  // Claude reports its exact cost only at the end; the budget is checked against a running estimate.
  const meter = budgetUsd === undefined || !agent.responseUsage ? undefined : new CostMeter();
  let overBudget = false;
  const checkBudget = (line: string): void => {
    const r = meter && agent.responseUsage?.(line);
    if (!meter || !r || budgetUsd === undefined) return;
    meter.add(r.messageId, r.model, r.usage);
    if (!overBudget && meter.costUsd() > budgetUsd) {
      overBudget = true;
      emit({ type: 'warning', message: `estimated cost $${meter.costUsd().toFixed(4)} passed the budget of $${budgetUsd}; stopping the agent` });
      void handle.kill();
    }
  };
  // The broker refuses the session's requests once a budget is reached; the agent is stopped too
  // (it may be inside a long tool call), its work so far is kept.
  opts.budgetStop?.((reason) => {
    if (overBudget) return;
    overBudget = true;
    emit({ type: 'warning', message: `${reason}; stopping the agent` });
    void handle.kill();
  });
  // A refused key or an API that never answers stops the run at once instead of at the timeout.
  let apiFailure: ApiFailure | undefined;
  const hints = { ...(agent.credential?.keyEnv ? { keyEnv: agent.credential.keyEnv } : {}), ...(agent.credential?.urlEnv ? { urlEnv: agent.credential.urlEnv } : {}) };
  let noAnswerStreak = 0;
  const onRetry = (ev: Extract<AgentEvent, { type: 'api_retry' }>): void => {
    noAnswerStreak = ev.status === null ? noAnswerStreak + 1 : 0;
    const verdict = apiFailure ? undefined : retryVerdict(ev, noAnswerStreak, hints);
    if (!verdict) return;
    apiFailure = verdict;
    void handle.kill();
  };
  const stdout = new LineSplitter();
  const stderr = new LineSplitter();
  let lineNo = 0;
  const parseLine = agent.parser(opts.model ? { model: opts.model } : {});
  const stderrEvents = (text: string): AgentEvent[] => (agent.stderrLine ? agent.stderrLine(text) : [{ type: 'stderr', text }]);
  const handleStderr = (text: string): void => {
    if (text.trim()) for (const ev of stderrEvents(text)) emit(ev);
  };
  const handleLine = (line: string): void => {
    lineNo += 1;
    checkBudget(line);
    for (const parsed of parseLine(line)) {
      // Behind the broker an unreachable API looks like the broker's 502: say what really happened.
      const why = parsed.type === 'api_retry' ? opts.apiUnreachable?.() : undefined;
      const ev: AgentEvent = parsed.type === 'api_retry' && why ? { ...parsed, status: null, error: why } : parsed;
      if (ev.type === 'result') result = ev;
      emit({ ...ev, agentLine: lineNo });
      if (ev.type === 'api_retry') onRetry(ev);
      else if (ev.type !== 'raw' && ev.type !== 'stderr') noAnswerStreak = 0;
      const now = Date.now();
      if (ev.type === 'tool_use' && now - lastActivity > 1000) {
        lastActivity = now;
        onActivity(`${ev.name}`);
      }
    }
  };
  try {
    for await (const chunk of handle) {
      if (chunk.stream === 'stdout') stdout.push(trailer ? trailer.push(chunk.data) : chunk.data).forEach(handleLine);
      else stderr.push(chunk.data).forEach(handleStderr);
    }
    const ended = trailer?.end(opts.then?.length ?? 0);
    if (ended) stdout.push(ended.rest).forEach(handleLine);
    chained = ended?.then;
    stdout.flush().forEach(handleLine);
    stderr.flush().forEach(handleStderr);
  } finally {
    timers.forEach(clearTimeout);
    signal.removeEventListener('abort', onAbort);
  }
  const exit = await handle.wait();
  const outcomeOf = (): AgentOutcome => {
    const estimate = meter ? { estimate: { costUsd: roundUsd(meter.costUsd()), usage: meter.usage() } } : {};
    if (budgetUsd !== undefined && (result?.costUsd ?? 0) > budgetUsd) overBudget = true;
    if (overBudget) return { outcome: 'over_budget', exitCode: exit.exitCode, ...estimate, ...(result ? { result } : {}) };
    if (timedOut) return { outcome: 'timed_out', exitCode: exit.exitCode, ...(result ? { result } : {}) };
    if (interrupted) return { outcome: 'killed', exitCode: exit.exitCode, ...(result ? { result } : {}) };
    if (exit.exitCode === 0 && result && !result.isError) return { outcome: 'completed', exitCode: 0, result };
    // An agent without a result line (the `command` agent): its exit code is the outcome.
    if (!agent.reportsResult && exit.exitCode === 0 && !exit.signal) return { outcome: 'completed', exitCode: 0, ...(result ? { result } : {}) };
    const api = apiFailure ?? (result?.isError ? resultAuthFailure(result.text, hints) : undefined);
    if (api) return { outcome: 'failed', exitCode: exit.exitCode, error: api.message, hint: api.hint, ...(result ? { result } : {}) };
    const why = result?.isError
      ? `the agent reported an error (${result.subtype ?? 'error'}): ${result.text ?? ''}`.trim()
      : `the agent exited with ${exit.signal ? `signal ${exit.signal}` : `code ${String(exit.exitCode)}`}${result || !agent.reportsResult ? '' : ' before reporting a result'}`;
    return { outcome: 'failed', exitCode: exit.exitCode, error: why, ...(result ? { result } : {}) };
  };
  const outcome = outcomeOf();
  return chained ? { ...outcome, then: chained } : outcome;
}
