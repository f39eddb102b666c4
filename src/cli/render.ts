import type { Sink } from '../core/context.js';
import type { RunSummary, StreamEvent } from '../core/events.js';
import { Redactor } from '../core/redact.js';
import { planLines } from './render-plan.js';
import type { UploadPlan } from '../core/sync/plan.js';
import type { AppError } from '../errors.js';
import { cutEnd, fmtCost, fmtElapsed, fmtSecondsTenths, plural } from '../core/format.js';
import { LiveStatus } from './progress.js';
import { columnsOf, safeSink, TerminalStyle } from './terminal.js';

/** Output mode and streams of one command invocation. */
export interface RenderOptions {
  json: boolean;
  stdout: Sink;
  stderr: Sink;
  env: NodeJS.ProcessEnv;
  /**
   * Show that a run is alive (single runs): a spinner with the current step on a TTY stderr, a
   * heartbeat line every `heartbeatMs` of silence otherwise; never with --json.
   */
  progress?: { heartbeatMs: number; signal?: AbortSignal };
}

/** Default heartbeat interval of a run on a non-TTY stderr. */
export const HEARTBEAT_MS = 30_000;

/** The heartbeat interval: PARALLEL_CC_HEARTBEAT_SECONDS (tests use a short one), else 30 s. */
export function heartbeatMs(env: NodeJS.ProcessEnv): number {
  const s = Number(env.PARALLEL_CC_HEARTBEAT_SECONDS);
  return Number.isFinite(s) && s > 0 ? Math.max(100, s * 1000) : HEARTBEAT_MS;
}

/** True when ANSI colour may be used on this sink (a TTY, NO_COLOR unset, TERM not dumb). */
export function useColor(sink: Sink, env: NodeJS.ProcessEnv): boolean {
  return sink.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

type Paint = (code: string, s: string) => string;

const oneLine = cutEnd;

/** A short human description of a tool call's input. */
export function describeToolInput(name: string, input: unknown): string {
  if (typeof input !== 'object' || input === null) return '';
  const i = input as Record<string, unknown>;
  const pick = ['command', 'file_path', 'path', 'pattern', 'url', 'query', 'description'].find((k) => typeof i[k] === 'string');
  // codex's file changes: the paths it touched.
  if (!pick && Array.isArray(i.changes)) {
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const changes = i.changes.filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null);
    return oneLine(changes.map((c) => `${str(c.kind)} ${str(c.path)}`).join(', '), 160);
  }
  return pick ? oneLine(String(i[pick]), 160) : name === 'TodoWrite' ? 'update todos' : oneLine(JSON.stringify(input), 100);
}

/** "model API answered 500 (server_error); retry 2/10 in 1.2s" */
export function describeApiRetry(e: Extract<StreamEvent, { type: 'api_retry' }>): string {
  const what = e.status === null ? `model API did not answer${e.error && e.error !== 'unknown' ? ` (${e.error})` : ''}` : `model API answered ${e.status}${e.error ? ` (${e.error})` : ''}`;
  const wait = e.delayMs !== undefined ? ` in ${(e.delayMs / 1000).toFixed(1)}s` : '';
  return `${what}; retry ${e.attempt}${e.maxRetries !== undefined ? `/${e.maxRetries}` : ''}${wait}`;
}

/**
 * The one renderer. In JSON mode every event is one line of NDJSON on stdout; otherwise events are
 * printed for people (colour only on a TTY without NO_COLOR) and progress goes to stderr. Every byte
 * it prints passes the redactor and the terminal guard (`terminal.ts`): text from a sandbox can never
 * send an escape sequence to the terminal, and --json stays exact.
 */
export class Renderer {
  private readonly paint: Paint;
  private readonly errPaint: Paint;
  private readonly o: RenderOptions;
  private readonly outStyle: TerminalStyle;
  /** PARALLEL_CC_LOG_LEVEL=debug (or --verbose): step-by-step lines on stderr. */
  private readonly debug: boolean;
  private readonly status: LiveStatus | undefined;
  private readonly rawStdout: Sink;

  constructor(opts: RenderOptions) {
    const redactor = Redactor.fromEnv(opts.env);
    this.rawStdout = opts.stdout;
    this.outStyle = new TerminalStyle(useColor(opts.stdout, opts.env));
    const errStyle = new TerminalStyle(useColor(opts.stderr, opts.env));
    if (opts.progress && !opts.json) {
      const { heartbeatMs: beat, signal } = opts.progress;
      this.status = new LiveStatus({
        write: (s) => opts.stderr.write(errStyle.render(redactor.text(s))),
        style: errStyle,
        tty: opts.stderr.isTTY === true && opts.env.TERM !== 'dumb',
        columns: () => columnsOf(opts.stderr, 80),
        heartbeatMs: beat,
      });
      // Ctrl-C: the spinner steps aside before bin.ts prints its notice, so no stale line stays behind.
      signal?.addEventListener('abort', () => this.status?.before(), { once: true });
    }
    const around = this.status;
    this.o = {
      ...opts,
      stdout: safeSink(opts.stdout, { redactor, style: this.outStyle, json: opts.json, ...(around ? { around } : {}) }),
      stderr: safeSink(opts.stderr, { redactor, style: errStyle, json: false, ...(around ? { around } : {}) }),
    };
    this.debug = (opts.env.PARALLEL_CC_LOG_LEVEL ?? '').toLowerCase() === 'debug';
    this.paint = (code, s) => this.outStyle.paint(code, s);
    this.errPaint = (code, s) => errStyle.paint(code, s);
  }

  /** Colour for human stdout lines built outside the renderer (e.g. the status table). */
  stdoutPaint(): Paint {
    return this.paint;
  }

  /** Width of stdout when it is a terminal, else undefined (no limit). */
  stdoutColumns(): number | undefined {
    return this.rawStdout.isTTY === true ? columnsOf(this.rawStdout, 80) : undefined;
  }

  /** Prints one live event. */
  event(e: StreamEvent, opts: { stream: boolean } = { stream: true }): void {
    if (e.type === 'debug' || (this.debug && e.type === 'phase')) {
      // Diagnostics: stderr in both modes, so --json stdout stays one event per line of data.
      if (this.debug) this.o.stderr.write(`${this.errPaint('2', `[DEBUG] ${e.ts ? `${e.ts.slice(11, 23)} ` : ''}${e.message}`)}\n`);
      if (e.type === 'debug') return;
    }
    if (this.o.json) {
      if (opts.stream || e.type === 'summary') this.o.stdout.write(`${JSON.stringify(e)}\n`);
      return;
    }
    this.track(e);
    const p = this.paint;
    const out = (s: string): unknown => this.o.stdout.write(`${s}\n`);
    const live = (s: string): unknown => opts.stream && out(s);
    switch (e.type) {
      case 'phase':
        this.o.stderr.write(`${this.errPaint('2', `› ${e.message}`)}\n`);
        return;
      case 'warning':
        this.o.stderr.write(`${this.errPaint('33', `warning: ${e.message}`)}\n`);
        return;
      case 'summary':
        this.summary(e.summary);
        return;
      case 'cost':
        this.o.stderr.write(`${this.errPaint('2', `› sandbox time ${fmtElapsed(e.sandboxSeconds * 1000)} · est. ${fmtCost(e.sandboxUsd)} ($${e.usdPerHour.toFixed(2)}/h, per second, 1-minute minimum)`)}\n`);
        return;
      case 'egress':
        if (!e.allowed) live(p('33', `  ⚠ blocked network access to ${e.host}:${e.port}${e.reason ? ` (${e.reason})` : ''}`));
        return;
      case 'init':
        live(p('2', `● claude${e.model ? ` (${e.model})` : ''} in ${e.cwd ?? 'sandbox'}`));
        return;
      case 'text':
        live(e.text);
        return;
      case 'tool_use':
        live(`${p('36', `→ ${e.name}`)} ${describeToolInput(e.name, e.input)}`);
        return;
      case 'tool_result':
        live(p(e.isError ? '31' : '2', `  ${e.isError ? '✗' : '✓'} ${oneLine(e.content, 120) || '(no output)'}`));
        return;
      case 'result': {
        const u = e.usage ? ` · ${e.usage.inputTokens} in / ${e.usage.outputTokens} out tokens` : '';
        const d = e.durationMs !== undefined ? ` in ${fmtSecondsTenths(e.durationMs)}` : '';
        live(p(e.isError ? '31' : '32', `■ agent ${e.isError ? 'failed' : 'finished'}${d}${e.numTurns !== undefined ? ` · ${plural(e.numTurns, 'turn')}` : ''} · ${fmtCost(e.costUsd)}${u}`));
        return;
      }
      case 'api_retry':
        if (opts.stream) this.o.stderr.write(`${this.errPaint('33', `  ⟳ ${describeApiRetry(e)}`)}\n`);
        return;
      case 'model_api':
        if (opts.stream) this.o.stderr.write(`${this.errPaint('33', `  ⧗ ${e.message}`)}\n`);
        return;
      case 'stderr':
        live(p('2', `  stderr: ${e.text}`));
        return;
      case 'raw':
        live(p('2', e.line));
        return;
      case 'alert':
        this.o.stderr.write(`${this.errPaint('33', `⚠ ${e.message}`)}\n`);
        return;
      case 'hook':
        live(p(e.stream === 'stderr' ? '33' : '2', `  [${e.hook}] ${e.text}`));
        return;
    }
  }

  /** The live status follows the run: each phase and tool call is a step with its own clock. */
  private track(e: StreamEvent): void {
    if (!this.status) return;
    if (e.type === 'phase') this.status.step(e.message);
    else if (e.type === 'tool_use') this.status.step(`${e.name} ${describeToolInput(e.name, e.input)}`);
    else if (e.type === 'tool_result' || e.type === 'text' || e.type === 'init') this.status.step('the agent is thinking');
    else if (e.type === 'result') this.status.step('collecting the results');
  }

  /** Stops the live status (spinner/heartbeat); further output prints normally. */
  close(): void {
    this.status?.stop();
  }

  /** Prints the end-of-run summary. */
  summary(s: RunSummary): void {
    this.close();
    if (this.o.json) {
      this.o.stdout.write(`${JSON.stringify({ type: 'summary', summary: s })}\n`);
      return;
    }
    const p = this.paint;
    const color = s.status === 'completed' ? '32' : s.status === 'killed' ? '33' : '31';
    const lines = [
      '',
      `${p('1', 'Session')}   ${s.sessionId} ${p(color, s.status.toUpperCase())}`,
      s.worktree ? `${p('1', 'Branch')}    ${s.branch} (${plural(s.commits, 'commit')}, ${plural(s.filesChanged.length, 'file')})` : `${p('1', 'Branch')}    none (no changes came back)`,
      ...(s.worktree ? [`${p('1', 'Worktree')}  ${s.worktree}`, `${p('1', 'Review')}    git -C ${s.repo} log --stat ${s.baseCommit.slice(0, 12)}..${s.branch}`] : []),
      `${p('1', 'Cost')}      ${fmtCost(s.costUsd)}${s.usage ? ` (${s.usage.inputTokens} in / ${s.usage.outputTokens} out tokens)` : ''}${s.sandboxCostUsd !== undefined ? ` + sandbox ${fmtCost(s.sandboxCostUsd)}` : ''} · ${fmtSecondsTenths(s.durationMs)}`,
      ...(s.egressDenied > 0 ? [`${p('1', 'Network')}   ${plural(s.egressDenied, 'blocked connection attempt')}`] : []),
      `${p('1', 'Log')}       ${s.logPath}`,
    ];
    this.o.stdout.write(`${lines.join('\n')}\n`);
    if (s.error) this.o.stderr.write(`${this.errPaint('31', `error: ${s.error}`)}\n${s.hint ? `hint: ${s.hint}\n` : ''}`);
  }

  /** Prints a --dry-run plan. */
  plan(plan: UploadPlan & { repo: string; base: string; provider: string }): void {
    this.close();
    if (this.o.json) {
      this.o.stdout.write(`${JSON.stringify({ type: 'plan', ...plan })}\n`);
      return;
    }
    const out = planLines(plan, this.debug);
    this.o.stdout.write(`${out.join('\n')}\n`);
  }

  /** Prints a command's result: one JSON document with --json, otherwise the human lines. */
  data(value: unknown, human: () => string[]): void {
    if (this.o.json) this.o.stdout.write(`${JSON.stringify(value)}\n`);
    else {
      const lines = human();
      if (lines.length) this.o.stdout.write(`${lines.join('\n')}\n`);
    }
  }

  /** One line of NDJSON as it is (e.g. a log line), made terminal-safe without changing its meaning. */
  jsonLine(line: string): void {
    this.o.stdout.write(`${line}\n`);
  }

  /** A human line on stdout (terminal-safe). */
  line(text: string): void {
    this.o.stdout.write(`${text}\n`);
  }

  /** A warning the user must see (e.g. a billed sandbox left running): stderr in both modes. */
  warning(text: string): void {
    this.o.stderr.write(`${this.errPaint('33', `warning: ${text}`)}\n`);
  }

  /** A diagnostic line on stderr (progress, notices); never on stdout, so --json stays parseable. */
  note(text: string): void {
    this.o.stderr.write(`${text}\n`);
  }

  /** Prints an error: human text on stderr, and in JSON mode also an error object on stdout. */
  error(err: AppError): void {
    this.close();
    if (this.o.json) this.o.stdout.write(`${JSON.stringify({ type: 'error', kind: err.kind, error: err.message, hint: err.hint ?? null })}\n`);
    this.o.stderr.write(`${this.errPaint('31', `error: ${err.message}`)}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  }
}
