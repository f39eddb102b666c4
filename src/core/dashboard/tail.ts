import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The most one {@link FileTail.read} takes in by default; the rest waits for the next read. */
export const SLICE_MAX = 4 * 2 ** 20;
/** A line longer than this (an agent printing without newlines) is skipped, never buffered or decoded. */
export const LINE_MAX = 2 ** 20;
/** What one refresh of the dashboard reads at most over all its sessions' logs together. */
const REFRESH_BUDGET = 16 * 2 ** 20;
/** The least slice a log gets per refresh, however many logs have news. */
const SLICE_MIN = 64 * 2 ** 10;

/** In place of a line over {@link LINE_MAX} bytes: it was skipped (up to its newline), not read. */
export const SKIPPED: unique symbol = Symbol('a line over the length limit was skipped');

/** The slice each of `logs` logs with news gets in one refresh: the budget shared, within bounds. */
export function sliceFor(logs: number): number {
  return Math.max(SLICE_MIN, Math.min(SLICE_MAX, Math.floor(REFRESH_BUDGET / Math.max(1, logs))));
}

/**
 * Follows one append-only NDJSON file by byte offset: each {@link read} returns the whole lines
 * appended since the last one (a half-written last line waits for its newline). A file that shrank
 * (replaced) is read again from the start; a missing file is simply empty for now. The file is the
 * sandbox's output, so nothing about it is trusted: a read takes at most one slice ({@link behind}
 * says more is waiting), and a line over {@link LINE_MAX} bytes comes back as {@link SKIPPED} — a
 * huge or newline-free log neither blocks the dashboard nor makes a string past V8's limit.
 */
export class FileTail {
  private offset = 0;
  private rest: Buffer = Buffer.alloc(0);
  /** Inside an overlong line: everything up to its newline is dropped. */
  private skipping = false;
  /** True when the last read stopped before the end of the file. */
  behind = false;

  constructor(readonly path: string) {}

  /** The complete lines appended since the last call, from at most `max` new bytes. */
  read(max = SLICE_MAX): Array<string | typeof SKIPPED> {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      this.behind = false;
      return [];
    }
    try {
      const { size } = fstatSync(fd);
      if (size < this.offset) [this.offset, this.rest, this.skipping] = [0, Buffer.alloc(0), false];
      const buf = Buffer.allocUnsafe(Math.max(0, Math.min(size - this.offset, max)));
      const n = buf.length > 0 ? readSync(fd, buf, 0, buf.length, this.offset) : 0;
      this.offset += n;
      this.behind = n > 0 && this.offset < size;
      return n > 0 ? this.lines(buf.subarray(0, n)) : [];
    } finally {
      closeSync(fd);
    }
  }

  /** Splits new bytes into lines — bytes, not text, until a newline: a character split across two appends stays whole. */
  private lines(chunk: Buffer): Array<string | typeof SKIPPED> {
    const out: Array<string | typeof SKIPPED> = [];
    let start = 0;
    if (this.skipping) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) return out;
      [this.skipping, start] = [false, nl + 1];
    }
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
      if (this.rest.length + nl - start > LINE_MAX) out.push(SKIPPED);
      else {
        const line = Buffer.concat([this.rest, chunk.subarray(start, nl)]).toString('utf8');
        if (line !== '') out.push(line);
      }
      [this.rest, start] = [Buffer.alloc(0), nl + 1];
    }
    if (this.rest.length + chunk.length - start > LINE_MAX) {
      // The marker now, not when (if ever) the line ends: the user sees why nothing new shows.
      out.push(SKIPPED);
      [this.rest, this.skipping] = [Buffer.alloc(0), true];
    } else this.rest = Buffer.concat([this.rest, chunk.subarray(start)]); // a copy: the slice is not kept alive
    return out;
  }
}
