import { randomBytes } from 'node:crypto';

/** How one chained step ended and what it printed. */
export interface StepResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Reads the trailer init.cjs appends to a command's stdout after its chained steps
 * (`ExecRequest.then`): `\n<mark>`, then for each step ` <exit> <stdout bytes> <stderr bytes>\n`
 * and both outputs.
 *
 * Everything before the mark is passed on as the command's own output, as it arrives; a line is
 * held back only while it could still be the start of the mark. The mark is matched only at a
 * line's start. It is not secret from the sandbox (init.cjs's argv holds it): a process there that
 * prints it only spoils its own run's trailer, which is then not used — the caller collects the
 * ordinary way, and what the trailer says is judged like any other sandbox output.
 */
export class TrailerSplit {
  private readonly mark: Buffer;
  private held: Buffer = Buffer.alloc(0);
  private lineStart = true;
  private tail: Buffer[] | undefined;
  /** The newline before the first mark was taken as init.cjs's (not passed on). */
  private cutNewline = false;

  constructor(mark: string) {
    this.mark = Buffer.from(mark);
  }

  /** A fresh mark: printable, never in a JSON line's first bytes. */
  static newMark(): string {
    return `#pcc-trailer-${randomBytes(9).toString('hex')}`;
  }

  /** Feeds a chunk of stdout; returns the part that is the command's own output. */
  push(chunk: Buffer): Buffer {
    if (this.tail) {
      this.tail.push(chunk);
      return Buffer.alloc(0);
    }
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    for (let at = data.indexOf(this.mark); at >= 0; at = data.indexOf(this.mark, at + 1)) {
      if (at === 0 ? !this.lineStart : data[at - 1] !== 0x0a) continue;
      this.tail = [data.subarray(at + this.mark.length)];
      // The newline just before the mark is init.cjs's own (it ends an unterminated last line).
      this.cutNewline = at > 0;
      return data.subarray(0, at > 0 ? at - 1 : 0);
    }
    // The last partial line may still become the mark: held back until it cannot.
    const from = data.lastIndexOf(0x0a) + 1;
    const partial = data.subarray(from);
    if ((from > 0 || this.lineStart) && partial.length > 0 && partial.length < this.mark.length && this.mark.subarray(0, partial.length).equals(partial)) {
      // With the newline before it: that may be init.cjs's own (see above).
      const keep = Math.max(0, from - 1);
      this.held = Buffer.from(data.subarray(keep));
      if (keep > 0) this.lineStart = data[keep - 1] === 0x0a;
      return data.subarray(0, keep);
    }
    // An empty last line may be init.cjs's newline before a mark in the next chunk: held back too.
    if (partial.length === 0 && data.length > 0 && (data.length > 1 ? data[data.length - 2] === 0x0a : this.lineStart)) {
      this.held = Buffer.from('\n');
      this.lineStart = true;
      return data.subarray(0, data.length - 1);
    }
    if (data.length > 0) this.lineStart = data[data.length - 1] === 0x0a;
    return data;
  }

  /**
   * At the end of stdout: the command's own output not passed on yet, and each chained step's
   * result. The trailer is the last mark (at a line's start) followed by exactly `steps` whole
   * steps up to the end: what came between an earlier mark and it was the command's own output
   * (a process in the sandbox printed the mark), and is returned with the rest. Without such a
   * trailer there is no result (a command killed on the way; output that only looks like one).
   */
  end(steps: number): { rest: Buffer; then?: StepResult[] } {
    const held = this.held;
    this.held = Buffer.alloc(0);
    if (!this.tail) return { rest: held };
    const all = Buffer.concat([this.mark, ...this.tail]);
    const starts: number[] = [];
    for (let at = 0; at >= 0; at = all.indexOf(this.mark, at + 1)) if (at === 0 || all[at - 1] === 0x0a) starts.push(at);
    for (const at of starts.reverse()) {
      const then = steps > 0 ? parseSteps(all.subarray(at + this.mark.length), steps) : undefined;
      if (then) return { rest: at === 0 ? held : Buffer.concat([held, Buffer.from(this.cutNewline ? '\n' : ''), all.subarray(0, at - 1)]), then };
    }
    return { rest: held };
  }
}

/** Exactly `steps` steps (` <exit> <stdout bytes> <stderr bytes>\n` and both outputs) filling `tail`, else undefined. */
function parseSteps(tail: Buffer, steps: number): StepResult[] | undefined {
  const results: StepResult[] = [];
  let at = 0;
  while (results.length < steps) {
    const nl = tail.indexOf(0x0a, at);
    const m = nl < 0 || nl - at > 40 ? null : /^ (-?\d{1,4}) (\d{1,15}) (\d{1,15})$/.exec(tail.subarray(at, nl).toString('latin1'));
    if (!m) return undefined;
    const body = nl + 1;
    const [outLen, errLen] = [Number(m[2]), Number(m[3])];
    if (body + outLen + errLen > tail.length) return undefined;
    results.push({ exitCode: Number(m[1]), stdout: tail.subarray(body, body + outLen), stderr: tail.subarray(body + outLen, body + outLen + errLen) });
    at = body + outLen + errLen;
  }
  return at === tail.length ? results : undefined;
}
