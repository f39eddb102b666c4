import { randomBytes } from 'node:crypto';
import type { Sink } from '../core/context.js';
import type { Redactor } from '../core/redact.js';
import { escapeControls, escapeJsonControls } from '../core/sanitize.js';

/**
 * Our own escape sequences (colours, cursor moves, line erase), unforgeable by sandbox text.
 *
 * A renderer never writes a raw ESC. It writes tokens made of a private-use character, a random
 * per-process nonce and the sequence's parameters; the sink ({@link safeSink}) first escapes every
 * control character in the whole chunk ({@link escapeControls}) and only then turns the tokens into
 * real sequences. Text from a sandbox cannot contain a valid token (it does not know the nonce), so
 * however it reached the chunk — an event, an error message, a file name — it prints as visible text,
 * while our colours still work. This is the one place where an ESC is produced for a terminal.
 */
export class TerminalStyle {
  private readonly open: string;
  private readonly tokens: RegExp;

  /** @param color whether SGR colours are emitted (cursor controls always are, for TTY redraws) */
  constructor(readonly color: boolean) {
    const nonce = randomBytes(12).toString('hex');
    this.open = `\uE000${nonce}`;
    this.tokens = new RegExp(`\uE000${nonce}([0-9;]{0,16}[A-Za-z])\uE001`, 'g');
  }

  /** A control sequence `ESC [ seq` (e.g. `2K`, `3A`, `1G`, `J`). */
  control(seq: string): string {
    return `${this.open}${seq}\uE001`;
  }

  /** `s` in SGR `code` (e.g. '31'), or `s` itself without colour. */
  paint(code: string, s: string): string {
    return this.color ? `${this.control(`${code}m`)}${s}${this.control('0m')}` : s;
  }

  /** The bytes for the terminal: all control characters escaped, then our tokens made real. */
  render(chunk: string): string {
    return escapeControls(chunk).replace(this.tokens, (_, seq: string) => `\u001b[${seq}`);
  }
}

/**
 * Wraps a sink so that everything written passes the redactor and is safe for a terminal: human text
 * through {@link TerminalStyle.render}, JSON text (`json`) through {@link escapeJsonControls}, which
 * keeps its exact meaning. `around` runs before/after each write (the live status line uses it to
 * step out of the way).
 */
export function safeSink(sink: Sink, o: { redactor: Redactor; style: TerminalStyle; json: boolean; around?: { before(): void; after(): void } }): Sink {
  const write = (chunk: string): void => {
    const clean = o.redactor.text(chunk);
    o.around?.before();
    sink.write(o.json ? escapeJsonControls(clean) : o.style.render(clean));
    o.around?.after();
  };
  return { write, ...(sink.isTTY !== undefined ? { isTTY: sink.isTTY } : {}) };
}

/** Terminal width of a sink (a pseudo-terminal without a size reports 0). */
export function columnsOf(sink: Sink, fallback: number): number {
  const c = (sink as { columns?: number }).columns;
  return typeof c === 'number' && c > 0 ? c : fallback;
}
