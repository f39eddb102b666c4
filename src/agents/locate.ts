/** File checks shared by the agents' `locate`. */
import { accessSync, constants, openSync, readSync, closeSync } from 'node:fs';

/** The first four bytes of a file (empty when unreadable). */
function magic(path: string): Buffer {
  try {
    const fd = openSync(path, 'r');
    const buf = Buffer.alloc(4);
    readSync(fd, buf, 0, 4, 0);
    closeSync(fd);
    return buf;
  } catch {
    return Buffer.alloc(0);
  }
}

/** True for an ELF executable (a self-contained native build). */
export function isElf(path: string): boolean {
  return magic(path).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
}

/** A script with an interpreter line: fine when chosen explicitly (it runs with the sandbox's node/sh). */
export function isScript(path: string): boolean {
  return magic(path).subarray(0, 2).toString('latin1') === '#!';
}

/** True when the current user may execute `path`. */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
