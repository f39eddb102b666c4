import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tearDown } from '../../src/core/run-teardown.js';
import type { SessionNet } from '../../src/core/net/session-net.js';
import type { SandboxHandle, SandboxProvider } from '../../src/providers/provider.js';
import { tempDir } from '../helpers/git-repo.js';

describe('tearDown (issue 26)', () => {
  it('closes the bridges while the sandbox is being destroyed, and removes the folders only after both', async () => {
    const root = tempDir('pcc-td-');
    const sandboxDir = join(root, 'pcc-box');
    const netDir = join(sandboxDir, 'run');
    mkdirSync(netDir, { recursive: true });
    const order: string[] = [];
    let closed!: () => void;
    const netClosed = new Promise<void>((r) => (closed = r));
    const net = { close: () => (order.push('net closed'), closed(), Promise.resolve()) } as unknown as SessionNet;
    // The destroy only finishes once the bridges closed: run one after the other, this never ends.
    const provider = {
      capabilities: {},
      destroy: async () => {
        order.push('destroy started');
        const guard = new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), 20_000).unref());
        if ((await Promise.race([netClosed.then(() => 'ok' as const), guard])) === 'stuck') throw new Error('the bridges were not closed while the sandbox was destroyed');
        order.push(`destroyed (folder there: ${existsSync(sandboxDir)})`);
      },
    } as unknown as SandboxProvider;
    const sandbox = { id: 'b' } as SandboxHandle;
    const warnings: string[] = [];
    await tearDown({ provider, sandbox, keepSandbox: false, net, netDir, sandboxDir }, (e) => warnings.push(e.message));
    expect(order).toEqual(['destroy started', 'net closed', 'destroyed (folder there: true)']);
    expect(existsSync(sandboxDir)).toBe(false);
    expect(warnings).toEqual([]);
  });
});
