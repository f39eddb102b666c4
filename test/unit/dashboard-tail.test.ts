/**
 * A session's log is the sandbox's output: FileTail reads it in bounded slices and skips a line over
 * its limit with a marker; the live dashboard shares a bounded read per refresh and reads on later.
 */
import { appendFileSync, closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/core/context.js';
import { dashboardModel, LiveDashboard } from '../../src/core/dashboard/live.js';
import { FileTail, LINE_MAX, SKIPPED, SLICE_MAX, sliceFor } from '../../src/core/dashboard/tail.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

const MiB = 2 ** 20;
const edit = (file: string): string => `${JSON.stringify({ type: 'tool_use', id: file, name: 'Edit', input: { file_path: `/workspace/${file}` } })}\n`;

/** Reads until the tail has caught up; the lines and how many reads it took. */
function drain(t: FileTail, max?: number): { lines: Array<string | typeof SKIPPED>; reads: number } {
  const lines: Array<string | typeof SKIPPED> = [];
  let reads = 0;
  do {
    lines.push(...t.read(max));
    reads++;
  } while (t.behind);
  return { lines, reads };
}

describe('FileTail over a hostile log', () => {
  it('takes a newline-free log in slices: one marker when the line passes the limit, nothing buffered after, the next line read', () => {
    const p = join(tempDir('pcc-tail-big-'), 'events.ndjson');
    writeFileSync(p, Buffer.concat([Buffer.from('first\n'), Buffer.alloc(10 * MiB, 0x61)]));
    const t = new FileTail(p);
    // Every read takes at most a slice: 10 MiB + 6 bytes are three 4 MiB reads, the first two "behind".
    const a = t.read();
    expect([a, t.behind]).toEqual([['first', SKIPPED], true]);
    expect([t.read(), t.behind]).toEqual([[], true]);
    expect([t.read(), t.behind]).toEqual([[], false]);
    // Still no newline: still nothing (and no second marker for the same line).
    appendFileSync(p, Buffer.alloc(MiB, 0x62));
    expect(drain(t).lines).toEqual([]);
    // Its newline ends the skipping; the lines after it are read as usual.
    appendFileSync(p, `tail of it\n${edit('a.ts')}`);
    expect(t.read()).toEqual([edit('a.ts').trim()]);
  });

  it('skips a whole line over the limit inside one slice (with a marker) and keeps the lines around it', () => {
    const p = join(tempDir('pcc-tail-long-'), 'events.ndjson');
    writeFileSync(p, `one\n${'x'.repeat(LINE_MAX + 1)}\n${'y'.repeat(LINE_MAX)}\ntwo\n`);
    const lines = new FileTail(p).read();
    expect(lines.map((l) => (l === SKIPPED ? 'SKIPPED' : l.length))).toEqual([3, 'SKIPPED', LINE_MAX, 3]);
  });

  it('a line split over many small slices is whole; over the limit across slices it is skipped', () => {
    const p = join(tempDir('pcc-tail-small-'), 'events.ndjson');
    writeFileSync(p, `${'z'.repeat(1000)}\n`);
    const small = drain(new FileTail(p), 64);
    expect(small.reads).toBe(16);
    expect(small.lines).toEqual(['z'.repeat(1000)]);
    writeFileSync(p, `${'w'.repeat(LINE_MAX + 10)}\nafter\n`);
    expect(drain(new FileTail(p), 256 * 1024).lines).toEqual([SKIPPED, 'after']);
  });

  it('a log past the string limit (sparse, 600 MiB, one line) neither throws nor holds more than a slice', () => {
    const p = join(tempDir('pcc-tail-sparse-'), 'events.ndjson');
    const fd = openSync(p, 'w');
    ftruncateSync(fd, 600 * MiB);
    closeSync(fd);
    appendFileSync(p, `\n${edit('b.ts')}`);
    const { lines, reads } = drain(new FileTail(p));
    expect(lines).toEqual([SKIPPED, edit('b.ts').trim()]);
    expect(reads).toBe(Math.ceil((600 * MiB + 1 + edit('b.ts').length) / SLICE_MAX));
  });

  it('a refresh shares a bounded budget between the logs with news', () => {
    expect(sliceFor(1)).toBe(SLICE_MAX);
    expect(sliceFor(0)).toBe(SLICE_MAX);
    expect(sliceFor(16)).toBe(MiB);
    // Many logs: a floor, so each still moves on.
    expect(sliceFor(10_000)).toBe(64 * 1024);
  });
});

describe('the live dashboard over a big log', () => {
  let live: LiveDashboard | undefined;
  afterEach(() => {
    live?.stop();
    live = undefined;
  });

  function fixture(log: Buffer | string): { ctx: Context; dir: string } {
    const home = tempDir('pcc-tail-live-');
    const dir = join(home, 'sessions', 'feed0001');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'events.ndjson'), log);
    const db = openDb(join(home, 'coordinator.db'));
    new SessionRepository(db).create({ id: 'feed0001', repoPath: home, provider: 'native', status: 'running', pid: process.pid, sessionDir: dir, startedAt: new Date().toISOString() });
    db.close();
    return { ctx: { home, now: () => new Date() } as Context, dir };
  }

  it('reads a slice per refresh and the rest soon after, without a tick; one look (--once) reads to the end', async () => {
    // 12 MiB of ordinary lines, the last one says where the agent is.
    const filler = edit('filler.ts').repeat(Math.ceil((12 * MiB) / edit('filler.ts').length));
    const { ctx } = fixture(filler + edit('last.ts'));
    live = new LiveDashboard(ctx, { tickMs: 3_600_000 });
    expect(live.start().rows[0]?.step).toBe('Edit filler.ts');
    const models: string[] = [];
    live.subscribe((m) => models.push(String(m.rows[0]?.step)));
    // No tick and no file event: the dashboard reads on by itself, slice after slice.
    await expect.poll(() => models.at(-1), { timeout: 30_000, interval: 20 }).toBe('Edit last.ts');
    expect(models.length).toBeGreaterThanOrEqual(3);
    expect((await dashboardModel(ctx)).rows[0]?.step).toBe('Edit last.ts');
  });

  it('a newline-free log shows the row at once, the skipped line marked in its tail, and the lines after it', async () => {
    const { ctx, dir } = fixture(Buffer.concat([Buffer.from(edit('a.ts')), Buffer.alloc(3 * MiB, 0x61)]));
    live = new LiveDashboard(ctx, { tickMs: 3_600_000 });
    expect(live.start().rows[0]?.step).toBe('Edit a.ts');
    expect(live.digest('feed0001')?.tail.map((l) => [l.type, l.text])).toEqual([
      ['tool_use', 'Edit a.ts'],
      ['skipped', 'a line over 1 MiB was skipped (not read)'],
    ]);
    appendFileSync(join(dir, 'events.ndjson'), `\n${edit('b.ts')}`);
    await expect.poll(() => live?.model().rows[0]?.step, { timeout: 30_000, interval: 20 }).toBe('Edit b.ts');
  });
});
