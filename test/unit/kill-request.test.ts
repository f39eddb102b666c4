import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killTaken, requestKill, watchKill, withdrawKill } from '../../src/core/kill-request.js';
import { tempDir } from '../helpers/git-repo.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dir = (): string => {
  const d = tempDir('pcc-killreq-');
  dirs.push(d);
  return d;
};

describe('kill requests', () => {
  it('the owner takes a request for its own session only, and says who asked', async () => {
    const a = dir();
    const b = dir();
    const outer = new AbortController();
    const wa = watchKill(a, outer.signal);
    const wb = watchKill(b, outer.signal);
    requestKill(a, { by: '`parallel-cc sandbox kill` (pid 42)', at: '2026-01-01T00:00:00.000Z', collect: false });
    expect(await killTaken(a, 3000)).toBe(true);
    expect(wa.signal.aborted).toBe(true);
    expect(wa.request()).toEqual({ by: '`parallel-cc sandbox kill` (pid 42)', at: '2026-01-01T00:00:00.000Z', collect: false });
    expect(wb.signal.aborted).toBe(false);
    expect(wb.request()).toBeUndefined();
    // The outer signal (Ctrl-C, fail-fast) still stops the other one, with no request recorded.
    outer.abort();
    expect(wb.signal.aborted).toBe(true);
    expect(wb.request()).toBeUndefined();
    wa.stop();
    wb.stop();
  });

  it('a request nobody takes can be withdrawn; a garbled one still stops the session', async () => {
    const a = dir();
    requestKill(a, { by: 'x', at: 'now', collect: true });
    expect(await killTaken(a, 300)).toBe(false);
    expect(withdrawKill(a)).toBe(true);
    expect(existsSync(join(a, 'kill-request.json'))).toBe(false);
    const w = watchKill(a, new AbortController().signal);
    writeFileSync(join(a, 'kill-request.json'), 'not json');
    expect(await killTaken(a, 3000)).toBe(true);
    expect(w.signal.aborted).toBe(true);
    expect(w.request()).toMatchObject({ by: 'a kill request', collect: true });
    w.stop();
  });
});
