import { describe, expect, it } from 'vitest';
import { bridgedArgv, bridgeMounts, LOCAL_PORTS } from '../../src/providers/local/bridges.js';
import { sandboxEnv } from '../../src/providers/local/layout.js';
import { parseLimits, parseSize } from '../../src/providers/local/limits.js';

describe('local kit: limits parsing', () => {
  it('reads sizes in bytes with binary units, case-insensitive', () => {
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('512m')).toBe(512 * 1024 ** 2);
    expect(parseSize('2G')).toBe(2 * 1024 ** 3);
    expect(parseSize(' 1.5k ')).toBe(1536);
  });

  it('refuses what is not a size or not a pids count', () => {
    for (const bad of ['', 'm', '2gb', '-1m', '1e3', '2 g']) expect(() => parseSize(bad)).toThrow(/not a size/);
    expect(() => parseLimits({ memoryLimit: '1g', pidsLimit: 0 })).toThrow(/not a pids limit/);
    expect(() => parseLimits({ memoryLimit: '1g', pidsLimit: 1.5 })).toThrow(/not a pids limit/);
  });

  it('takes a config section, with a default pids limit where the provider has none', () => {
    expect(parseLimits({ memoryLimit: '2g', pidsLimit: 64 })).toEqual({ memoryBytes: 2 * 1024 ** 3, pids: 64 });
    expect(parseLimits({ memoryLimit: '1k' }, 512)).toEqual({ memoryBytes: 1024, pids: 512 });
  });
});

describe('local kit: bridges and env block', () => {
  const sockets = { apiSocket: '/sb/run/api.sock', egressSocket: '/sb/run/egress.sock' };

  it('mounts each host socket under /opt/parallel-cc/run and says where the agent reaches it', () => {
    expect(bridgeMounts(sockets)).toEqual({
      mounts: [
        { src: '/sb/run/api.sock', dest: '/opt/parallel-cc/run/api.sock' },
        { src: '/sb/run/egress.sock', dest: '/opt/parallel-cc/run/egress.sock' },
      ],
      endpoints: { api: `http://127.0.0.1:${LOCAL_PORTS.api}`, proxy: `http://127.0.0.1:${LOCAL_PORTS.proxy}` },
    });
    // A sandbox on the host's loopback takes another port; one with a network of its own has no proxy.
    expect(bridgeMounts(sockets, { apiPort: 40001, egress: false })).toEqual({
      mounts: [{ src: '/sb/run/api.sock', dest: '/opt/parallel-cc/run/api.sock' }],
      endpoints: { api: 'http://127.0.0.1:40001' },
    });
    expect(bridgeMounts({})).toEqual({ mounts: [], endpoints: {} });
  });

  it('runs a networked command through init.cjs with its bridges, anything else as it is', () => {
    const endpoints = { api: 'http://127.0.0.1:40001', proxy: `http://127.0.0.1:${LOCAL_PORTS.proxy}` };
    const argv = bridgedArgv(['/opt/parallel-cc/node'], endpoints, { argv: ['claude', '-p'], network: true });
    expect(argv.slice(0, 2)).toEqual(['/opt/parallel-cc/node', '/opt/parallel-cc/init.cjs']);
    expect(JSON.parse(argv[2] ?? '')).toEqual({
      bridges: [
        { port: 40001, socket: '/opt/parallel-cc/run/api.sock' },
        { port: LOCAL_PORTS.proxy, socket: '/opt/parallel-cc/run/egress.sock' },
      ],
      argv: ['claude', '-p'],
    });
    expect(bridgedArgv(['node'], endpoints, { argv: ['git', 'status'] })).toEqual(['git', 'status']);
    expect(bridgedArgv(['node'], {}, { argv: ['claude'], network: true })).toEqual(['claude']);
  });

  it('starts every command from a fixed env block the request may extend or override', () => {
    const env = sandboxEnv({ FOO: 'bar', LANG: 'en_US.UTF-8' });
    expect(env).toMatchObject({ HOME: '/home/agent', USER: 'agent', TMPDIR: '/tmp', PATH: '/opt/parallel-cc/bin:/usr/local/bin:/usr/bin:/bin', FOO: 'bar', LANG: 'en_US.UTF-8' });
    expect(Object.keys(sandboxEnv(undefined)).sort()).toEqual(['HOME', 'LANG', 'LOGNAME', 'PATH', 'SHELL', 'TMPDIR', 'USER']);
  });
});
