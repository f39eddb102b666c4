import type { Sink } from '../core/context.js';
import { fmtDuration, fmtUsd } from '../core/multi/output.js';
import type { MultiEvent, MultiSummary, TaskState } from '../core/multi/types.js';
import { Redactor } from '../core/redact.js';
import { escapeControls } from '../core/sanitize.js';
import { plural } from '../core/format.js';
import type { AppError } from '../errors.js';
import { describeApiRetry, describeToolInput, useColor } from './render.js';
import { columnsOf, safeSink, TerminalStyle } from './terminal.js';

/** Output mode and streams of a --multi run. */
export interface MultiRenderOptions {
  json: boolean;
  /** Pass the agents' own events through (--json); off with --no-stream. */
  stream: boolean;
  stdout: Sink;
  stderr: Sink;
  env: NodeJS.ProcessEnv;
  /** Task ids in display order. */
  taskIds: string[];
  /** Minimum time between two in-place redraws (ms). */
  redrawMs?: number;
  /** Ctrl-C / SIGTERM: the in-place block is erased and progress continues as plain lines. */
  signal?: AbortSignal;
}

const STATE_COLOR: Record<TaskState, string> = {
  queued: '2',
  initializing: '36',
  running: '34',
  completed: '32',
  failed: '31',
  timed_out: '31',
  over_budget: '31',
  killed: '33',
  skipped: '33',
};

// eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

function fit(s: string, width: number): string {
  // Escaped before measuring, so the line is as wide on screen as computed (`^[` is two columns).
  const flat = escapeControls(s).replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

/** `running claude (timeout 60 min)` after the state `running` would read "running running claude". */
function withoutState(state: TaskState, detail: string): string {
  return detail.startsWith(`${state} `) ? detail.slice(state.length + 1) : detail;
}

/**
 * Progress of a --multi run. On a TTY (stderr) one line per task is redrawn in place; otherwise one
 * plain line per event; with --json every event is one NDJSON line on stdout tagged with its task id,
 * ending with a `multi_summary` object. Colour only when allowed (TTY, NO_COLOR unset, TERM not dumb).
 */
export class MultiRenderer {
  private readonly out: Sink;
  private readonly err: Sink;
  private readonly style: TerminalStyle;
  /** Colour for stdout (the summary table), which may be a TTY when stderr is not, or the reverse. */
  private readonly paintOut: (code: string, s: string) => string;
  private live: boolean;
  private readonly lines = new Map<string, { state: TaskState; detail: string; since: number }>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;
  private ticker: NodeJS.Timeout | undefined;
  private readonly debug: boolean;

  constructor(private readonly o: MultiRenderOptions) {
    // Every byte passes the redactor and the terminal guard, as with the single-run renderer.
    const redactor = Redactor.fromEnv(o.env);
    this.style = new TerminalStyle(useColor(o.stderr, o.env));
    const outStyle = new TerminalStyle(useColor(o.stdout, o.env));
    this.out = safeSink(o.stdout, { redactor, style: o.json ? this.style : outStyle, json: o.json });
    this.err = safeSink(o.stderr, { redactor, style: this.style, json: false });
    this.paintOut = (code, s) => outStyle.paint(code, s);
    this.live = !o.json && o.stderr.isTTY === true && o.env.TERM !== 'dumb';
    if (this.live) o.signal?.addEventListener('abort', () => this.interrupted(), { once: true });
    this.debug = (o.env.PARALLEL_CC_LOG_LEVEL ?? '').toLowerCase() === 'debug';
    for (const id of o.taskIds) this.lines.set(id, { state: 'queued', detail: '', since: Date.now() });
    // Elapsed times keep moving while a task is quiet; unref'd so it never holds the process open.
    if (this.live && o.taskIds.length > 0) {
      this.ticker = setInterval(() => this.draw(), 1000);
      this.ticker.unref();
    }
  }

  private paint(code: string, s: string): string {
    return this.style.paint(code, s);
  }

  /**
   * Ctrl-C: bin.ts prints its notice right after this, which would push the block down and leave
   * its old lines (still saying "running") above. So the block is erased first, and from here on
   * every state change is a plain line; the summary table shows the final states.
   */
  private interrupted(): void {
    if (!this.live) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    this.timer = this.ticker = undefined;
    if (this.drawn > 0) this.err.write(`${this.style.control('1G')}${this.style.control(`${this.drawn}A`)}${this.style.control('J')}`);
    this.drawn = 0;
    this.live = false;
  }

  /** Handles one event of the run. */
  event(e: MultiEvent): void {
    if (this.o.json) {
      if (e.type === 'task_event') {
        // Debug lines are diagnostics (stderr with --verbose), never part of the NDJSON stream.
        if (e.event.type === 'debug') return;
        if (this.o.stream || e.event.type === 'summary') this.out.write(`${JSON.stringify({ taskId: e.taskId, ...e.event })}\n`);
      } else if (e.type === 'task') {
        const { result: _result, ...rest } = e;
        this.out.write(`${JSON.stringify(rest)}\n`);
      } else this.out.write(`${JSON.stringify({ type: 'multi_summary', summary: e.summary })}\n`);
      return;
    }
    if (e.type === 'multi_summary') return;
    if (e.type === 'task_event') {
      const ev = e.event;
      if (ev.type === 'debug') {
        if (this.debug && !this.live) this.err.write(`[${e.taskId}] ${this.paint('2', `[DEBUG] ${ev.message}`)}\n`);
      } else if (ev.type === 'tool_use') this.update(e.taskId, 'running', `→ ${ev.name} ${describeToolInput(ev.name, ev.input)}`, this.o.stream);
      else if (ev.type === 'warning') this.update(e.taskId, undefined, `warning: ${ev.message}`, true);
      else if (ev.type === 'api_retry') this.update(e.taskId, undefined, `⟳ ${describeApiRetry(ev)}`, true);
      else if (ev.type === 'model_api') this.update(e.taskId, undefined, `⧗ ${ev.message}`, true);
      return;
    }
    // Tool calls arrive as task_event above; the matching 'running' state events add nothing here.
    if (e.state === 'running' && this.lines.get(e.taskId)?.state === 'running') return;
    const r = e.result;
    const parts = r
      ? [
          ...(e.state === 'skipped' ? [] : [`${fmtDuration(r.durationMs)} · ${fmtUsd(r.costUsd)}`]),
          ...(r.branch ? [`${r.branch} (${plural(r.commits, 'commit')})`] : []),
          ...(e.error ? [e.error] : []),
        ]
      : [e.detail ?? ''];
    this.update(e.taskId, e.state, parts.filter(Boolean).join(' · '), true);
  }

  /** Records a task's new state/detail and shows it: redrawn on a TTY, else printed when `print`. */
  private update(taskId: string, state: TaskState | undefined, detail: string, print: boolean): void {
    const line = this.lines.get(taskId) ?? { state: 'queued', detail: '', since: Date.now() };
    if (state && state !== line.state) line.since = Date.now();
    line.state = state ?? line.state;
    line.detail = detail;
    this.lines.set(taskId, line);
    if (this.live) this.scheduleDraw();
    else if (print) {
      const shown = withoutState(line.state, detail);
      this.err.write(`[${taskId}] ${this.paint(STATE_COLOR[line.state], line.state)}${shown ? ` ${shown}` : ''}\n`);
    }
  }

  private scheduleDraw(): void {
    const wait = (this.o.redrawMs ?? 80) - (Date.now() - this.lastDraw);
    if (wait <= 0) this.draw();
    else this.timer ??= setTimeout(() => this.draw(), wait);
  }

  /** Redraws the block of task lines in place. */
  private draw(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastDraw = Date.now();
    // A pseudo-terminal without a size reports 0 columns.
    const columns = Math.max(40, columnsOf(this.o.stderr, 100));
    const idWidth = Math.min(24, Math.max(...[...this.lines.keys()].map((k) => k.length)));
    // Column 1 first: a ^C echoed by the terminal moved the cursor to the right.
    let text = this.style.control('1G') + (this.drawn > 0 ? this.style.control(`${this.drawn}A`) : '');
    for (const [id, l] of this.lines) {
      const elapsed = l.state === 'initializing' || l.state === 'running' ? fmtDuration(Date.now() - l.since) : '';
      const head = `${fit(id, idWidth).padEnd(idWidth)}  ${l.state.padEnd(12)} ${elapsed.padStart(6)}  `;
      text += `${this.style.control('2K')}${head.slice(0, idWidth + 2)}${this.paint(STATE_COLOR[l.state], head.slice(idWidth + 2))}${fit(withoutState(l.state, l.detail), Math.max(0, columns - 1 - head.length))}\n`;
    }
    this.drawn = this.lines.size;
    this.err.write(text);
  }

  /** Final redraw; stops the redraw timer. */
  close(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.live && this.lines.size > 0) this.draw();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Prints the end-of-batch table on stdout (--json already printed the summary object). */
  summary(s: MultiSummary): void {
    if (this.o.json) return;
    const idWidth = Math.max(4, ...s.tasks.map((t) => t.taskId.length));
    const rows = s.tasks.map((t) => {
      const status = this.paintOut(STATE_COLOR[t.status], t.status.padEnd(11));
      const dur = (t.status === 'skipped' ? '-' : fmtDuration(t.durationMs)).padStart(8);
      return `${t.taskId.padEnd(idWidth)}  ${status}  ${dur}  ${fmtUsd(t.costUsd).padStart(9)}  ${t.branch ?? '-'}`;
    });
    const problems = s.tasks.flatMap((t) => (t.error ? [`  ${t.taskId}: ${t.error.message}${t.error.hint ? `\n    hint: ${t.error.hint}` : ''}`] : []));
    const lines = [
      '',
      `${'task'.padEnd(idWidth)}  ${'status'.padEnd(11)}  ${'duration'.padStart(8)}  ${'cost'.padStart(9)}  branch`,
      ...rows,
      '',
      `Wall time ${fmtDuration(s.wallMs)} · task time ${fmtDuration(s.taskTimeMs)} · saved ${fmtDuration(s.timeSavedMs)} · total cost ${fmtUsd(s.totalCostUsd)}`,
      ...(s.budget ? [`Budget    ${fmtUsd(s.budget.spentUsd)} of $${s.budget.usd}${s.budget.message ? ` · budget reached: ${s.budget.message}` : ''}`] : []),
      `Results   ${s.outputDir}/summary.md`,
    ];
    this.out.write(`${lines.join('\n')}\n`);
    if (problems.length) this.err.write(`${this.paint('31', 'problems:')}\n${problems.join('\n')}\n`);
  }

  /** Prints an error that stopped the batch; with --json also an {type:'error', error, hint} line. */
  error(err: AppError): void {
    this.close();
    if (this.o.json) this.out.write(`${JSON.stringify({ type: 'error', kind: err.kind, error: err.message, hint: err.hint ?? null })}\n`);
    this.err.write(`${this.paint('31', `error: ${err.message}`)}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  }
}

/** Strips ANSI colour codes (for tests and width computations). */
export const stripAnsi = (s: string): string => s.replace(ANSI, '');
