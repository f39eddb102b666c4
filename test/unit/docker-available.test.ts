import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DockerProvider } from '../../src/providers/docker/index.js';
import { tempDir } from '../helpers/git-repo.js';

/** A fake docker daemon on a unix socket: answers /_ping and the image inspect, counting each. */
async function fakeDaemon(imageThere: () => boolean): Promise<{ socket: string; calls: string[]; server: Server }> {
  const socket = join(tempDir('pcc-dk-'), 'docker.sock');
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url?.replace(/^\/v[\d.]+/, '')}`);
    if (req.url?.endsWith('/_ping')) return void res.end('OK');
    if (req.url?.includes('/images/') && imageThere()) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"Id":"sha256:x"}');
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"No such image"}');
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return { socket, calls, server };
}

let daemon: Server | undefined;
afterEach(async () => {
  await new Promise((r) => daemon?.close(r));
  daemon = undefined;
});

describe('docker checkAvailable (issue 26: once per process and image)', () => {
  it('asks the daemon once for every provider instance of the process; a missing image is asked again', async () => {
    let there = false;
    const fake = await fakeDaemon(() => there);
    daemon = fake.server;
    const config = { ...ConfigSchema.parse({}).providers.docker, image: 'pcc-cache-test:1' };
    const env = { DOCKER_HOST: `unix://${fake.socket}` };
    await expect(new DockerProvider(env, config).checkAvailable()).rejects.toThrow(/the docker image pcc-cache-test:1 is not on this machine/);
    there = true;
    await new DockerProvider(env, config).checkAvailable();
    await new DockerProvider(env, config).checkAvailable();
    await new DockerProvider(env, config).checkAvailable();
    expect(fake.calls).toEqual(['GET /_ping', 'GET /images/pcc-cache-test:1/json', 'GET /_ping', 'GET /images/pcc-cache-test:1/json']);
  });
});
