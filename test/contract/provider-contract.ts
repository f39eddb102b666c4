/**
 * The provider contract: one set of cases, written once, run against every provider (one small
 * `*.test.ts` per provider calls {@link providerContract}). What the orchestrator relies on from any
 * sandbox: output streams while the command runs, stdin/stdout are byte-exact, exits and signals are
 * reported, a kill reaches everything the command started, and the optional parts (reconnect, log
 * follow, diagnose) behave the same wherever they exist. Files and lifecycle: contract-files.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execCollect, type SandboxProvider } from '../../src/providers/provider.js';
import { fileCases } from './contract-files.js';
import { createBox, drain, sh, sizeOf, until, within, type Box, type ContractTarget } from './target.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** 5 MB of every byte value, in random order. */
const BIG = Buffer.concat([ALL_BYTES, randomBytes(5 * 1024 * 1024 - 256)]);
/** 5 MB of valid UTF-8 with 1-, 2-, 3- and 4-byte characters (split across chunks somewhere). */
const BIG_TEXT = Buffer.from('ascii é ß € 你好 😀 \u0000\t\r\n'.repeat(Math.ceil((5 * 1024 * 1024) / 40)), 'utf8');

/** Registers the whole contract for one provider. `target.make()` must work at collection time. */
export function providerContract(label: string, target: ContractTarget): void {
  const probe: SandboxProvider = target.make();
  describe(`provider contract: ${label}`, () => {
    let box: Box;
    beforeAll(async () => {
      box = await createBox(target.make());
    });
    afterAll(async () => {
      if (box) await box.provider.destroy(box.sandbox);
    });

    it('streams output while the command runs, before it ends', async () => {
      const script = 'echo first; i=0; while [ ! -e go ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo second; rm -f go';
      const handle = box.provider.execute(box.sandbox, { argv: ['sh', '-c', script] });
      let ended = false;
      void handle.wait().then(() => (ended = true));
      let out = '';
      let endedAtFirst: boolean | undefined;
      for await (const chunk of handle) {
        if (chunk.stream !== 'stdout') continue;
        out += chunk.data.toString('utf8');
        if (endedAtFirst === undefined && out.includes('first\n')) {
          endedAtFirst = ended;
          await sh(box, 'touch go');
        }
      }
      expect(endedAtFirst).toBe(false);
      expect(out).toBe('first\nsecond\n');
      expect(await handle.wait()).toEqual({ exitCode: 0, signal: null });
    });

    it('stdin → stdout is byte-exact with collect: all 256 byte values, and 5 MB', async () => {
      for (const payload of [ALL_BYTES, BIG]) {
        const r = await execCollect(box.provider, box.sandbox, { argv: ['cat'], stdin: payload });
        expect(r.exitCode).toBe(0);
        expect(r.stdout.length).toBe(payload.length);
        expect(sha(r.stdout)).toBe(sha(payload));
      }
    });

    it(`stdin → stdout is byte-exact streamed, without collect (${target.textStreams ? 'text transport: a 5 MB UTF-8 payload' : 'all 256 byte values, and 5 MB'})`, async () => {
      const text = target.streamDropsNul ? Buffer.from(BIG_TEXT.toString('utf8').replaceAll(String.fromCharCode(0), ''), 'utf8') : BIG_TEXT;
      const payloads = target.textStreams ? [text] : [ALL_BYTES, BIG];
      for (const payload of payloads) {
        const r = await drain(box.provider.execute(box.sandbox, { argv: ['cat'], stdin: payload }));
        expect(r.exitCode).toBe(0);
        expect(r.stdout.length).toBe(payload.length);
        expect(sha(r.stdout)).toBe(sha(payload));
      }
      // Binary stdin still arrives byte-exact: the command sees exactly the 5 MB (its digest says so).
      const r = await drain(box.provider.execute(box.sandbox, { argv: ['sh', '-c', 'sha256sum | cut -d" " -f1'], stdin: BIG }));
      expect(r.stdout.toString('utf8').trim()).toBe(sha(BIG));
    });

    it('reports exit codes and signals, and keeps stderr apart from stdout', async () => {
      const run = (argv: string[]) => execCollect(box.provider, box.sandbox, { argv });
      expect(await run(['sh', '-c', 'echo out; echo err >&2; exit 7'])).toMatchObject({ exitCode: 7, stdout: Buffer.from('out\n'), stderr: 'err\n' });
      expect(await run(['true'])).toMatchObject({ exitCode: 0, signal: null });
      const signalled = await run(['sh', '-c', 'kill -TERM $$']);
      // Either encoding of "ended by SIGTERM": the signal itself, or the shell's 128 + 15.
      expect(signalled.signal === 'SIGTERM' || signalled.exitCode === 143, `${String(signalled.signal)} / ${String(signalled.exitCode)}`).toBe(true);
      const missing = await run(['no-such-command-pcc-contract']);
      expect(missing.exitCode).not.toBe(0);
      expect(missing.exitCode).not.toBeNull();
    });

    for (const logName of [undefined, 'contract-kill']) {
      it(`kill reaches the processes the command started: after it, neither the child nor the grandchild lives${logName ? ' (a kept-log command)' : ''}`, async () => {
        const tag = randomBytes(3).toString('hex');
        const script = `(while :; do echo g >> g-${tag}; sleep 0.1; done) & while :; do echo c >> c-${tag}; sleep 0.1; done`;
        const handle = box.provider.execute(box.sandbox, { argv: ['sh', '-c', script], ...(logName ? { logName } : {}) });
        const done = drain(handle);
        await until('both processes to beat', async () => (await sizeOf(box, `g-${tag}`)) > 0 && (await sizeOf(box, `c-${tag}`)) > 0);
        // Bounded: a kill that misses a grandchild holding the output pipes would otherwise hang here.
        const exit = await within(15_000, 'the command to end after kill()', (async () => {
          await handle.kill();
          await handle.kill(); // idempotent
          return done;
        })());
        expect(exit.signal !== null || (exit.exitCode !== null && exit.exitCode !== 0)).toBe(true);
        const before = [await sizeOf(box, `g-${tag}`), await sizeOf(box, `c-${tag}`)];
        await new Promise((r) => setTimeout(r, 1000));
        expect([await sizeOf(box, `g-${tag}`), await sizeOf(box, `c-${tag}`)]).toEqual(before);
        await sh(box, 'rm -f "$1" "$2"', `g-${tag}`, `c-${tag}`);
      });
    }

    it.skipIf(!probe.reconnect)('reconnect from another instance (another CLI) sees the same files; an unknown sandbox is undefined', async () => {
      const content = `reconnect ${randomBytes(8).toString('hex')}\n`;
      await sh(box, 'printf %s "$1" > reconnect.txt', content);
      const other = target.make();
      const again = await other.reconnect?.(box.sandbox.id, { sessionId: box.spec.sessionId, ...(box.spec.sandboxDir ? { sandboxDir: box.spec.sandboxDir } : {}) });
      expect(again?.id).toBe(box.sandbox.id);
      if (!again) return;
      expect(again.workdir).toBe(box.sandbox.workdir);
      expect((await execCollect(other, again, { argv: ['cat', 'reconnect.txt'] })).stdout.toString()).toBe(content);
      expect((await other.download(again, `${again.workdir}/reconnect.txt`)).toString()).toBe(content);
      await other.destroy(again, { keep: true });
      expect(await sh(box, 'cat reconnect.txt')).toBe(content); // keep: the original is untouched
      expect(await other.reconnect?.('pcc-contract-no-such-sandbox', { sessionId: 'deadbeef' })).toBeUndefined();
    });

    it.skipIf(!probe.followLog)('a kept log is followed from line N by another instance, to the command’s exit code', async () => {
      const script = 'for i in 1 2 3 4 5; do echo "line $i"; done; while [ ! -e go-log ]; do sleep 0.1; done; for i in 6 7 8; do echo "line $i"; done; exit 3';
      const handle = box.provider.execute(box.sandbox, { argv: ['sh', '-c', script], logName: 'contract-follow' });
      const done = drain(handle);
      const other = target.make();
      const again = (await other.reconnect?.(box.sandbox.id, { sessionId: box.spec.sessionId, ...(box.spec.sandboxDir ? { sandboxDir: box.spec.sandboxDir } : {}) })) ?? box.sandbox;
      const follower = again === box.sandbox ? box.provider : other;
      await until('the kept command to run', async () => (await follower.isRunning?.(again, 'contract-follow')) ?? true);
      const lines: string[] = [];
      const abort = new AbortController();
      const following = follower.followLog?.(again, 'contract-follow', { fromLine: 3, onLine: (l) => lines.push(l), signal: abort.signal });
      await until('line 5 on the follow', () => lines.includes('line 5'));
      await sh(box, 'touch go-log');
      expect(await following).toEqual({ exitCode: 3 });
      expect(lines).toEqual(['line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8']);
      expect((await done).exitCode).toBe(3);
      if (follower.isRunning) expect(await follower.isRunning(again, 'contract-follow')).toBe(false);
      if (again !== box.sandbox) await other.destroy(again, { keep: true });
      await sh(box, 'rm -f go-log');
    });

    it.skipIf(!probe.diagnose || !target.takeDown)('diagnose: nothing while the sandbox is fine, a reason once it went down', async () => {
      const down = await createBox(target.make());
      try {
        expect(await down.provider.diagnose?.(down.sandbox)).toBeUndefined();
        await target.takeDown?.(down.sandbox);
        const why = await down.provider.diagnose?.(down.sandbox);
        expect(why?.message).toMatch(/\w{8,}/);
      } finally {
        await down.provider.destroy(down.sandbox);
      }
    });

    fileCases(target, () => box);
  });
}
