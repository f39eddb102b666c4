import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readExact, type BridgeBox } from '../../src/providers/cloudflare/exec.js';
import type { BridgeClient } from '../../src/providers/cloudflare/bridge.js';

/** A bridge whose every exec exits 0 and whose files are `gz` (what gzip wrote in the container). */
function boxServing(gz: Buffer): BridgeBox {
  const client = {
    exec: () => Promise.resolve([{ type: 'exit' as const, exitCode: 0 }]),
    readFile: () => Promise.resolve(gz),
  } as unknown as BridgeClient;
  return { client, id: 'sbx', hold: () => () => undefined, gone: () => Promise.resolve(undefined) };
}

describe('readExact (a file of the container, gzip\'d there, inflated here)', () => {
  it('returns the bytes exactly', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await readExact(boxServing(gzipSync(bytes)), '/w/f', 1024)).toEqual(bytes);
  });

  it('refuses a file that inflates past the cap (a compression bomb from the sandbox) with a clear error', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 2 ** 20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(readExact(boxServing(bomb), '/w/bomb', 2 ** 20)).rejects.toThrow(/\/w\/bomb in the sandbox is larger than 1048576 bytes once decompressed/);
  });
});
