import type { Sink } from '../core/context.js';
import type { RunSummary, StreamEvent } from '../core/events.js';
import { Redactor } from '../core/redact.js';
import type { UploadPlan } from '../core/sync/plan.js';
import type { AppError } from '../errors.js';

/** Output mode and streams of one command invocation. */
export interface RenderOptions {
  json: boolean;
  stdout: Sink;
  stderr: Sink;
  env: NodeJS.ProcessEnv;
}

/** True when ANSI colour may be used on this sink (a TTY, NO_COLOR unset, TERM not dumb). */
export function useColor(sink: Sink, env: NodeJS.ProcessEnv): boolean {
  return sink.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

type Paint = (code: string, s: string) => string;
const painter = (on: boolean): Paint => (code, s) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

function oneLine(s: string, max = 160): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A short human description of a tool call's input. */
export function describeToolInput(name: string, input: unknown): string {
  if (typeof input !== 'object' || input === null) return '';
  const i = input as Record<string, unknown>;
  const pick = ['command', 'file_path', 'path', 'pattern', 'url', 'query', 'description'].find((k) => typeof i[k] === 'string');
  return pick ? oneLine(String(i[pick])) : name === 'TodoWrite' ? 'update todos' : oneLine(JSON.stringify(input), 100);
}

/** "model API answered 500 (server_error); retry 2/10 in 1.2s" */
export function describeApiRetry(e: Extract<StreamEvent, { type: 'api_retry' }>): string {
  const what = e.status === null ? `model API did not answer${e.error && e.error !== 'unknown' ? ` (${e.error})` : ''}` : `model API answered ${e.status}${e.error ? ` (${e.error})` : ''}`;
  const wait = e.delayMs !== undefined ? ` in ${(e.delayMs / 1000).toFixed(1)}s` : '';
  return `${what}; retry ${e.attempt}${e.maxRetries !== undefined ? `/${e.maxRetries}` : ''}${wait}`;
}

function fmtCost(c: number | null | undefined): string {
  return c === null || c === undefined ? 'n/a' : `$${c.toFixed(4)}`;
}

/** 75 → "1m 15s" */
function fmtSeconds(s: number): string {
  const whole = Math.round(s);
  return whole < 60 ? `${whole}s` : `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
}

/**
 * The one renderer. In JSON mode every event is one line of NDJSON on stdout; otherwise events are
 * printed for people (colour only on a TTY without NO_COLOR) and progress goes to stderr.
 */
export class Renderer {
  private readonly paint: Paint;
  private readonly errPaint: Paint;

  private readonly o: RenderOptions;
  /** PARALLEL_CC_LOG_LEVEL=debug (or --verbose): step-by-step lines on stderr. */
  private readonly debug: boolean;

  constructor(opts: RenderOptions) {
    // Every byte this renderer prints passes the redactor: no credential reaches a terminal or a pipe.
    const redactor = Redactor.fromEnv(opts.env);
    const redacting = (sink: Sink): Sink => ({ write: (chunk: string) => sink.write(redactor.text(chunk)), ...(sink.isTTY !== undefined ? { isTTY: sink.isTTY } : {}) });
    this.o = { ...opts, stdout: redacting(opts.stdout), stderr: redacting(opts.stderr) };
    this.debug = (opts.env.PARALLEL_CC_LOG_LEVEL ?? '').toLowerCase() === 'debug';
    this.paint = painter(useColor(opts.stdout, opts.env));
    this.errPaint = painter(useColor(opts.stderr, opts.env));
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
        this.o.stderr.write(`${this.errPaint('2', `› sandbox time ${fmtSeconds(e.sandboxSeconds)} · est. ${fmtCost(e.sandboxUsd)} ($${e.usdPerHour.toFixed(2)}/h, per second, 1-minute minimum)`)}\n`);
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
        const d = e.durationMs !== undefined ? ` in ${(e.durationMs / 1000).toFixed(1)}s` : '';
        live(p(e.isError ? '31' : '32', `■ agent ${e.isError ? 'failed' : 'finished'}${d}${e.numTurns !== undefined ? ` · ${e.numTurns} turns` : ''} · ${fmtCost(e.costUsd)}${u}`));
        return;
      }
      case 'api_retry':
        if (opts.stream) this.o.stderr.write(`${this.errPaint('33', `  ⟳ ${describeApiRetry(e)}`)}\n`);
        return;
      case 'stderr':
        live(p('2', `  stderr: ${e.text}`));
        return;
      case 'raw':
        live(p('2', e.line));
        return;
    }
  }

  /** Prints the end-of-run summary. */
  summary(s: RunSummary): void {
    if (this.o.json) {
      this.o.stdout.write(`${JSON.stringify({ type: 'summary', summary: s })}\n`);
      return;
    }
    const p = this.paint;
    const color = s.status === 'completed' ? '32' : s.status === 'killed' ? '33' : '31';
    const lines = [
      '',
      `${p('1', 'Session')}   ${s.sessionId} ${p(color, s.status.toUpperCase())}`,
      s.worktree
        ? `${p('1', 'Branch')}    ${s.branch} (${s.commits} commit${s.commits === 1 ? '' : 's'}, ${s.filesChanged.length} file${s.filesChanged.length === 1 ? '' : 's'})`
        : `${p('1', 'Branch')}    none (no changes came back)`,
      ...(s.worktree ? [`${p('1', 'Worktree')}  ${s.worktree}`, `${p('1', 'Review')}    git -C ${s.repo} log --stat ${s.baseCommit.slice(0, 12)}..${s.branch}`] : []),
      `${p('1', 'Cost')}      ${fmtCost(s.costUsd)}${s.usage ? ` (${s.usage.inputTokens} in / ${s.usage.outputTokens} out tokens)` : ''}${s.sandboxCostUsd !== undefined ? ` + sandbox ${fmtCost(s.sandboxCostUsd)}` : ''} · ${(s.durationMs / 1000).toFixed(1)}s`,
      ...(s.egressDenied > 0 ? [`${p('1', 'Network')}   ${s.egressDenied} blocked connection attempt${s.egressDenied === 1 ? '' : 's'}`] : []),
      `${p('1', 'Log')}       ${s.logPath}`,
    ];
    this.o.stdout.write(`${lines.join('\n')}\n`);
    if (s.error) this.o.stderr.write(`${this.errPaint('31', `error: ${s.error}`)}\n${s.hint ? `hint: ${s.hint}\n` : ''}`);
  }

  /** Prints a --dry-run plan. */
  plan(plan: UploadPlan & { repo: string; base: string; provider: string }): void {
    if (this.o.json) {
      this.o.stdout.write(`${JSON.stringify({ type: 'plan', ...plan })}\n`);
      return;
    }
    const out: string[] = [
      `Dry run: nothing will be created.`,
      `Repository  ${plan.repo}`,
      `Base        ${plan.base}`,
      `Provider    ${plan.provider}`,
      `Upload      ${plan.files.length} files, ${plan.totalBytes} bytes`,
      ...plan.files.map((f) => `  + ${f.path}${f.kind === 'symlink' ? ' (symlink)' : ''}`),
      `Excluded    ${plan.excluded.length} paths`,
      ...plan.excluded.map((x) => `  - ${x.path} (${x.reason})`),
    ];
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

  /** A diagnostic line on stderr (progress, notices); never on stdout, so --json stays parseable. */
  note(text: string): void {
    this.o.stderr.write(`${text}\n`);
  }

  /** Prints an error: human text on stderr, and in JSON mode also an error object on stdout. */
  error(err: AppError): void {
    if (this.o.json) this.o.stdout.write(`${JSON.stringify({ type: 'error', kind: err.kind, error: err.message, hint: err.hint ?? null })}\n`);
    this.o.stderr.write(`${this.errPaint('31', `error: ${err.message}`)}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  }
}
