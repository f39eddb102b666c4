import { escapeControls } from '../core/sanitize.js';
import { cutEnd, fmtElapsed } from '../core/format.js';
import type { TerminalStyle } from './terminal.js';

/** How a single run shows it is alive. */
export interface LiveStatusOptions {
  /** Writes to stderr, already terminal-safe, bypassing the live status's own before/after hooks. */
  write: (s: string) => void;
  style: TerminalStyle;
  /** stderr is a terminal: a spinner line redrawn in place; otherwise heartbeat lines. */
  tty: boolean;
  columns: () => number;
  /** A heartbeat line after this long without output (non-TTY). */
  heartbeatMs: number;
  /** Time between spinner frames (TTY). */
  frameMs?: number;
  now?: () => number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * The "still working" indicator of a single run: on a TTY a spinner with the current step and its
 * elapsed time on the last stderr line, stepped out of the way (erased) before any other line is
 * printed and drawn again after it; elsewhere a heartbeat line whenever nothing was printed for
 * `heartbeatMs`. Timers are unref'd: the indicator never keeps the process alive.
 */
export class LiveStatus {
  private label = '';
  private since = 0;
  private shown = false;
  private frame = 0;
  private stopped = false;
  private spin: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly o: LiveStatusOptions) {
    this.now = o.now ?? Date.now;
  }

  /** A new current step (its elapsed time starts now); starts the indicator on first use. */
  step(label: string): void {
    if (this.stopped) return;
    // Escaped here, not only at the sink, so the width is that of what will be shown.
    this.label = escapeControls(label).replace(/\s+/g, ' ').trim();
    this.since = this.now();
    if (this.o.tty) {
      if (!this.spin) {
        this.spin = setInterval(() => this.draw(), this.o.frameMs ?? 120);
        this.spin.unref();
      }
      // Not drawn here: the line that announces the step is printed next, and after() draws below it.
    } else this.arm();
  }

  /** Erases the spinner line so the next line prints where it was. */
  before(): void {
    if (!this.shown) return;
    this.o.write(`${this.o.style.control('1G')}${this.o.style.control('2K')}`);
    this.shown = false;
  }

  /** After a line was printed: the spinner comes back below it; the heartbeat waits a full interval. */
  after(): void {
    if (this.stopped || !this.label) return;
    if (this.o.tty) this.draw();
    else this.arm();
  }

  /** Erases the indicator and stops its timers (end of the run, an error, Ctrl-C). */
  stop(): void {
    this.before();
    this.stopped = true;
    if (this.spin) clearInterval(this.spin);
    if (this.beat) clearTimeout(this.beat);
    this.spin = this.beat = undefined;
  }

  private elapsed(): string {
    return fmtElapsed(this.now() - this.since);
  }

  private draw(): void {
    if (this.stopped || !this.label) return;
    this.frame = (this.frame + 1) % FRAMES.length;
    const suffix = ` · ${this.elapsed()}`;
    // One character short of the width: a full line would wrap and break the in-place erase.
    const room = Math.max(10, this.o.columns() - 1) - 2 - suffix.length;
    const text = `${FRAMES[this.frame] ?? '*'} ${cutEnd(this.label, room)}${suffix}`;
    this.o.write(`${this.o.style.control('1G')}${this.o.style.control('2K')}${this.o.style.paint('2', text)}`);
    this.shown = true;
  }

  private arm(): void {
    if (this.beat) clearTimeout(this.beat);
    this.beat = setTimeout(() => {
      this.beat = undefined;
      if (this.stopped) return;
      this.o.write(`${this.o.style.paint('2', `… still working: ${this.label} (${this.elapsed()})`)}\n`);
      this.arm();
    }, this.o.heartbeatMs);
    this.beat.unref();
  }
}
