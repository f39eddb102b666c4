import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Follows one append-only NDJSON file by byte offset: each {@link read} returns the whole lines
 * appended since the last one (a half-written last line waits for its newline). A file that shrank
 * (replaced) is read again from the start; a missing file is simply empty for now.
 */
export class FileTail {
  private offset = 0;
  private rest: Buffer = Buffer.alloc(0);

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
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      // Bytes, not text, until a newline: a character split across two appends stays whole.
      const all = Buffer.concat([this.rest, buf.subarray(0, n)]);
      const end = all.lastIndexOf(0x0a);
      this.rest = all.subarray(end + 1);
      if (end < 0) return [];
      return all.subarray(0, end).toString('utf8').split('\n').filter((l) => l !== '');
    } finally {
      closeSync(fd);
    }
  }
}
