import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { engineDialer } from '../../src/providers/docker/engine-dial.js';
import { demux } from '../../src/providers/docker/engine.js';

const frame = (stream: 1 | 2, data: Buffer): Buffer => {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
};

describe('docker engine client (without dockerode)', () => {
  it('demultiplexes stdout and stderr frames whatever the socket chunking (headers and payloads split)', () => {
    const wire = Buffer.concat([frame(1, Buffer.from('out-1 ')), frame(2, Buffer.from('err')), frame(1, Buffer.alloc(0)), frame(1, Buffer.from([0, 255, 10]))]);
    for (const size of [1, 3, 7, 8, 9, wire.length]) {
      const s = new PassThrough();
      const got: Record<string, Buffer[]> = { stdout: [], stderr: [] };
      demux(s, (which, data) => got[which]?.push(Buffer.from(data)));
      for (let i = 0; i < wire.length; i += size) s.write(wire.subarray(i, i + size));
      expect(Buffer.concat(got.stdout ?? [])).toEqual(Buffer.concat([Buffer.from('out-1 '), Buffer.from([0, 255, 10])]));
      expect(Buffer.concat(got.stderr ?? []).toString()).toBe('err');
    }
  });
  it('reaches the daemon DOCKER_HOST names: the default socket, unix://, tcp:// (TLS with DOCKER_TLS_VERIFY), ssh:// through ssh and dial-stdio; anything else is an environment error', () => {
    expect(engineDialer({})).toEqual({ socketPath: '/var/run/docker.sock', label: 'unix:///var/run/docker.sock' });
    expect(engineDialer({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toMatchObject({ socketPath: '/run/user/1000/docker.sock' });
    for (const host of ['tcp://10.0.0.1:2376', 'ssh://me@box', 'ssh://me@box:2222']) {
      const d = engineDialer({ DOCKER_HOST: host });
      expect('connect' in d && d.label).toBe(host);
    }
    // TLS: the certificates are read at the first connection, from DOCKER_CERT_PATH.
    const tls = engineDialer({ DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent-pcc-certs' });
    expect(() => 'connect' in tls && tls.connect()).toThrow(/nonexistent-pcc-certs\/ca\.pem/);
    for (const host of ['npipe:////./pipe/docker_engine', 'tcp://', 'not a url']) {
      let thrown: unknown;
      try {
        engineDialer({ DOCKER_HOST: host });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect([(thrown as AppError).kind, (thrown as AppError).message]).toEqual(['environment', `DOCKER_HOST=${host} is not a docker address parallel-cc can reach`]);
    }
  });
  it('is the only way the docker provider speaks to the daemon: dockerode is never loaded (its types only)', () => {
    const dir = fileURLToPath(new URL('../../src/providers/docker/', import.meta.url));
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      const uses = text.split('\n').filter((l) => /['"]dockerode['"]/.test(l));
      expect([f, uses.filter((l) => !/^import type \w+ from 'dockerode';$/.test(l))]).toEqual([f, []]);
    }
  });
});
