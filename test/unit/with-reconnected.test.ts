import { describe, expect, it } from 'vitest';
import { withReconnected } from '../../src/core/ops/reconnect.js';
import type { SandboxHandle, SandboxProvider } from '../../src/providers/provider.js';
import type { Session } from '../../src/store/sessions.js';

const session = { id: 'abcd1234', sandboxId: 'box-1', sandboxDir: null } as unknown as Session;

/** A provider that records reconnects and releases; `reconnect` behaves as told. */
function stub(reconnect: (id: string) => Promise<SandboxHandle | undefined>, destroy: () => Promise<void> = () => Promise.resolve()) {
  const calls: string[] = [];
  const provider = {
    reconnect: (id: string, s: { sessionId: string }) => {
      calls.push(`reconnect ${id} ${s.sessionId}`);
      return reconnect(id);
    },
    destroy: (box: SandboxHandle, opts?: { keep?: boolean }) => {
      calls.push(`destroy ${box.id} keep=${String(opts?.keep)}`);
      return destroy();
    },
  } as unknown as SandboxProvider;
  return { provider, calls };
}
const handle = { id: 'box-1' } as SandboxHandle;

describe('withReconnected', () => {
  it('runs fn on the reconnected handle and releases it with keep', async () => {
    const { provider, calls } = stub(() => Promise.resolve(handle));
    const r = await withReconnected(session, { provider }, (box) => Promise.resolve(`used ${box.id}`));
    expect(r).toEqual({ value: 'used box-1' });
    expect(calls).toEqual(['reconnect box-1 abcd1234', 'destroy box-1 keep=true']);
  });

  it('releases the handle (with keep) when fn throws, and the error reaches the caller', async () => {
    const { provider, calls } = stub(() => Promise.resolve(handle));
    await expect(withReconnected(session, { provider }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(calls).toEqual(['reconnect box-1 abcd1234', 'destroy box-1 keep=true']);
  });

  it('is undefined, without calling fn, when there is nothing to reconnect to', async () => {
    let ran = false;
    const fn = (): Promise<number> => ((ran = true), Promise.resolve(1));
    expect(await withReconnected(session, { provider: undefined }, fn)).toBeUndefined();
    expect(await withReconnected(session, { provider: {} as SandboxProvider }, fn)).toBeUndefined();
    expect(await withReconnected({ ...session, sandboxId: null }, { provider: stub(() => Promise.resolve(handle)).provider }, fn)).toBeUndefined();
    expect(await withReconnected(session, { provider: stub(() => Promise.resolve(undefined)).provider }, fn)).toBeUndefined();
    expect(ran).toBe(false);
  });

  it('propagates a failing reconnect or release unless tolerant, which treats them as no sandbox / ignored', async () => {
    const failing = stub(() => Promise.reject(new Error('api down'))).provider;
    await expect(withReconnected(session, { provider: failing }, () => Promise.resolve(1))).rejects.toThrow('api down');
    expect(await withReconnected(session, { provider: failing, tolerant: true }, () => Promise.resolve(1))).toBeUndefined();
    const badRelease = stub(() => Promise.resolve(handle), () => Promise.reject(new Error('release failed'))).provider;
    await expect(withReconnected(session, { provider: badRelease }, () => Promise.resolve(1))).rejects.toThrow('release failed');
    expect(await withReconnected(session, { provider: badRelease, tolerant: true }, () => Promise.resolve(1))).toEqual({ value: 1 });
  });
});
