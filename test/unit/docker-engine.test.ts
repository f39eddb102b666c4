import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { demux, engineSocket } from '../../src/providers/docker/engine.js';

const frame = (stream: 1 | 2, data: Buffer): Buffer => {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
};

describe('docker engine client (one-shot exec without dockerode)', () => {
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
  it('speaks only to a local unix socket: the default one, or DOCKER_HOST=unix://…', () => {
    expect(engineSocket({})).toBe('/var/run/docker.sock');
    expect(engineSocket({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toBe('/run/user/1000/docker.sock');
    expect(engineSocket({ DOCKER_HOST: 'tcp://10.0.0.1:2376' })).toBeUndefined();
    expect(engineSocket({ DOCKER_HOST: 'ssh://me@box' })).toBeUndefined();
  });
});
