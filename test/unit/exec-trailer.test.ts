import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TrailerSplit } from '../../src/core/exec-trailer.js';
import { chained, bridgedArgv } from '../../src/providers/local/bridges.js';
import { prng } from '../helpers/prng.js';

const INIT = fileURLToPath(new URL('../../src/sandbox-init/init.cjs', import.meta.url));
const MARK = '#pcc-trailer-0123456789abcdef01';
const frame = (code: number, out: string | Buffer, err = ''): Buffer => Buffer.concat([Buffer.from(` ${code} ${Buffer.byteLength(out)} ${Buffer.byteLength(err)}\n`), Buffer.from(out), Buffer.from(err)]);

/** Feeds `data` in the given cut points; returns what was passed on live, and the end. */
function feed(data: Buffer, cuts: number[], steps: number): { live: Buffer; rest: Buffer; then?: Array<{ exitCode: number; stdout: string; stderr: string }> } {
  const t = new TrailerSplit(MARK);
  const live: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, data.length]) {
    live.push(t.push(data.subarray(from, c)));
    from = c;
  }
  const end = t.end(steps);
  return { live: Buffer.concat(live), rest: end.rest, ...(end.then ? { then: end.then.map((s) => ({ exitCode: s.exitCode, stdout: s.stdout.toString('latin1'), stderr: s.stderr.toString() })) } : {}) };
}

describe('exec trailer: the chained steps after a command’s own output', () => {
  const own = '{"type":"system","subtype":"init"}\n{"type":"result","ok":true}\n';
  const blob = Buffer.from([0, 1, 2, 0x0a, 0xff, 0x0a]);
  const stream = Buffer.concat([Buffer.from(own), Buffer.from(`\n${MARK}`), frame(0, blob), frame(3, '', 'no transcript')]);

  it('passes the command’s own lines on as they come and returns each step whole, however the stream is cut', () => {
    const rnd = prng(26);
    for (let i = 0; i < 200; i++) {
      const cuts = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * stream.length)))].sort((a, b) => a - b);
      const r = feed(stream, cuts, 2);
      expect(Buffer.concat([r.live, r.rest]).toString()).toBe(own);
      expect(r.then).toEqual([{ exitCode: 0, stdout: blob.toString('latin1'), stderr: '' }, { exitCode: 3, stdout: '', stderr: 'no transcript' }]);
    }
  });

  it('an unterminated last line of the command comes out as the same lines, however the stream is cut', () => {
    const unterminated = '{"a":1}\n{"b":2}';
    const s2 = Buffer.concat([Buffer.from(`${unterminated}\n${MARK}`), frame(0, 'x')]);
    for (let c = 0; c <= s2.length; c++) {
      const r = feed(s2, [c], 1);
      expect(Buffer.concat([r.live, r.rest]).toString().split('\n').filter(Boolean)).toEqual(['{"a":1}', '{"b":2}']);
      expect(r.then?.[0]?.stdout).toBe('x');
    }
  });

  it('holds back only a partial line that could still be the mark: a JSON line goes on at once', () => {
    const t = new TrailerSplit(MARK);
    expect(t.push(Buffer.from('{"a":1}\n{"b"')).toString()).toBe('{"a":1}\n{"b"');
    // The newline before it too: it may be init.cjs's own, dropped with the mark.
    expect(t.push(Buffer.from(':2}\n#pcc')).toString()).toBe(':2}');
    expect(t.push(Buffer.from('-not-it\n')).toString()).toBe('\n#pcc-not-it\n');
    expect(t.end(1)).toEqual({ rest: Buffer.alloc(0) });
  });

  it('ends an unterminated last line of the command where the mark begins (init.cjs’s own newline)', () => {
    expect(feed(Buffer.concat([Buffer.from(`partial\n${MARK}`), frame(0, 'x')]), [], 1)).toMatchObject({ live: Buffer.from('partial'), then: [{ exitCode: 0, stdout: 'x' }] });
  });

  it('a mark the command printed itself is its output: the trailer is the last whole one', () => {
    const forged = Buffer.concat([Buffer.from(`{"a":1}\n${MARK}`), frame(0, 'fake'), Buffer.from('\n{"type":"result"}\n'), Buffer.from(`\n${MARK}`), frame(0, 'real'), frame(0, 't')]);
    const r = feed(forged, [], 2);
    expect(r.then?.map((s) => s.stdout)).toEqual(['real', 't']);
    expect(Buffer.concat([r.live, r.rest]).toString()).toBe(`{"a":1}\n${MARK} 0 4 0\nfake\n{"type":"result"}\n`);
  });

  it('trusts no trailer that is cut short, has a step too many or too few, or a header that is not one', () => {
    const whole = Buffer.concat([Buffer.from(`\n${MARK}`), frame(0, 'series'), frame(0, 't')]);
    for (const bad of [whole.subarray(0, whole.length - 1), Buffer.concat([whole, frame(0, 'x')]), Buffer.from(`\n${MARK} 0 6 0\nseries`), Buffer.from(`\n${MARK} zero 1 0\nx 0 1 0\nt`), Buffer.from(`\n${MARK} 0 99999999999999 0\n`)]) {
      expect(feed(bad, [3], 2).then).toBeUndefined();
    }
    expect(feed(Buffer.from('{"no":"trailer"}'), [], 2)).toEqual({ live: Buffer.from('{"no":"trailer"}'), rest: Buffer.alloc(0) });
  });
});

describe('init.cjs: chained steps in the same sandbox command', () => {
  const run = (config: object): Promise<{ code: number | null; stdout: Buffer }> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [INIT, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const out: Buffer[] = [];
      p.stdout.on('data', (d: Buffer) => out.push(d));
      p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out) }));
    });

  it('runs each step after the command with exactly its own environment, frames their output, and exits with the command’s status', async () => {
    const then = chained({ mark: MARK, steps: [{ argv: ['sh', '-c', 'printf "%s|%s" "$ONLY" "${AGENT_SECRET-unset}"; echo warn >&2'], env: { ONLY: 'step' } }, { argv: ['/nonexistent/step'] }] }, '/', (e) => ({ PATH: '/usr/bin:/bin', ...e }));
    const argv = bridgedArgv(['node'], {}, { argv: ['sh', '-c', 'echo own; exit 7'] }, then);
    expect(argv.slice(0, 2)).toEqual(['node', '/opt/parallel-cc/init.cjs']);
    const r = await run({ ...(JSON.parse(argv[2] as string) as object), argv: ['sh', '-c', 'echo own; exit 7'] });
    expect(r.code).toBe(7);
    const t = new TrailerSplit(MARK);
    const own = t.push(r.stdout);
    const end = t.end(2);
    expect(Buffer.concat([own, end.rest]).toString()).toBe('own\n');
    expect(end.then?.[0]).toMatchObject({ exitCode: 0 });
    expect(end.then?.[0]?.stdout.toString()).toBe('step|unset');
    expect(end.then?.[0]?.stderr.toString()).toBe('warn\n');
    expect(end.then?.[1]?.exitCode).not.toBe(0);
    expect(end.then?.[1]?.stderr.toString()).toMatch(/ENOENT/);
  });

  it('without steps, nothing follows the command’s output', async () => {
    const r = await run({ bridges: [], argv: ['sh', '-c', 'printf own'] });
    expect(r).toEqual({ code: 0, stdout: Buffer.from('own') });
  });
});
