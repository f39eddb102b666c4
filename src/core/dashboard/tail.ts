import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The most one read takes in (the rest waits for the next): a huge log never blocks or exhausts the CLI. */
const READ_MAX = 4 * 2 ** 20;
/** A line longer than this (an agent printing without newlines) is dropped, not buffered without end. */
const LINE_MAX = 2 ** 20;

/**
 * Follows one append-only NDJSON file by byte offset: each {@link read} returns the whole lines
 * appended since the last one (a half-written last line waits for its newline). A file that shrank
 * (replaced) is read again from the start; a missing file is simply empty for now. The log is the
 * sandbox's output: each read takes at most {@link READ_MAX} bytes ({@link behind} says more is
 * waiting), and a line over {@link LINE_MAX} bytes is skipped up to its newline.
 */
export class FileTail {
  private offset = 0;
  private rest: Buffer = Buffer.alloc(0);
  /** Dropping an overlong line: everything up to the next newline is skipped. */
  private skipping = false;
  /** True when the last read stopped before the end of the file. */
  behind = false;

  constructor(readonly path: string) {}

  /** The complete lines appended since the last call. */
  read(): string[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = fstatSync(fd);
      if (size < this.offset) [this.offset, this.rest] = [0, Buffer.alloc(0)];
      if (size === this.offset) return [];
      const buf = Buffer.alloc(Math.min(size - this.offset, READ_MAX));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      this.behind = this.offset < size;
      let chunk = buf.subarray(0, n);
      if (this.skipping) {
        const nl = chunk.indexOf(0x0a);
        if (nl < 0) return [];
        [this.skipping, chunk] = [false, chunk.subarray(nl + 1)];
      }
      // Bytes, not text, until a newline: a character split across two appends stays whole.
      const all = Buffer.concat([this.rest, chunk]);
      const end = all.lastIndexOf(0x0a);
      this.rest = all.subarray(end + 1);
      if (this.rest.length > LINE_MAX) [this.rest, this.skipping] = [Buffer.alloc(0), true];
      if (end < 0) return [];
      return all.subarray(0, end).toString('utf8').split('\n').filter((l) => l !== '' && Buffer.byteLength(l) <= LINE_MAX);
    } finally {
      closeSync(fd);
    }
  }
}
