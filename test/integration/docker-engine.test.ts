/**
 * engine.ts, the docker provider's own Engine API client (issue 26: a run never loads dockerode),
 * against the real dockerd: a container's create/start/inspect/logs/list/kill/remove, an exec with
 * stdin and demultiplexed stdout/stderr and its exit code, streamed events — over the local unix
 * socket, over tcp:// (a loopback forwarder to that socket) and over ssh:// (a fake `ssh` on PATH
 * that runs `docker system dial-stdio` here, as the real one would on the remote machine).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  containerLogs,
  createContainer,
  inspectContainer,
  inspectExec,
  killContainer,
  listContainers,
  removeContainer,
  startContainer,
  startExec,
  watchEvents,
} from '../../src/providers/docker/container-api.js';
import { demux, Engine, EngineError } from '../../src/providers/docker/engine.js';
import { dockerReady, DOCKER_TEST_IMAGE } from '../helpers/docker.js';
import { tempDir } from '../helpers/git-repo.js';

const READY = dockerReady();
const made: string[] = [];
afterAll(() => {
  for (const name of made) execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
});
let forwarder: Server | undefined;
afterEach(async () => {
  // Half-open forwarders keep a refused or unfinished connection open: close them all, then the server.
  for (const c of forwarded) c.destroy();
  forwarded.clear();
  await new Promise((r) => (forwarder ? forwarder.close(r) : r(undefined)));
  forwarder = undefined;
});
const forwarded = new Set<Socket>();
/** Records a forwarder's connections (every one, handshake done or not) for afterEach. */
const tracked = (server: Server): Server => server.on('connection', (c: Socket) => void forwarded.add(c));

/** A `sleep infinity` container of the test image, labelled with its own random label, created (not started). */
async function sleeper(engine: Engine): Promise<{ name: string; id: string; label: string }> {
  const name = `pcc-engine-test-${randomBytes(4).toString('hex')}`;
  made.push(name);
  const label = `parallel-cc.engine-test-${randomBytes(4).toString('hex')}`;
  const id = await createContainer(engine, { name, Image: DOCKER_TEST_IMAGE, Cmd: ['sh', '-c', 'echo booted; exec sleep infinity'], Labels: { [label]: 'yes' }, HostConfig: { Init: true, NetworkMode: 'none' } });
  return { name, id, label };
}

/** Runs one exec to its end: stdin in, stdout/stderr apart, the exit code from its inspect. */
async function exec(engine: Engine, name: string, cmd: string[], stdin: Buffer): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  const { execId, stream } = await startExec(engine, name, { Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  demux(stream, (which, d) => (which === 'stdout' ? out : err).push(Buffer.from(d)));
  const ended = new Promise((r) => stream.on('close', r));
  stream.end(stdin);
  await ended;
  // The stream ends a moment before the daemon records the exit: poll (generously) for it.
  for (let i = 0; i < 200; i++) {
    const info = await inspectExec(engine, execId);
    if (!info.Running) return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), code: info.ExitCode };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the exec never ended');
}

/** The whole life of a container and an exec through one engine. */
async function lifeCycle(engine: Engine): Promise<void> {
  const { name, id, label } = await sleeper(engine);
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  const died: string[] = [];
  const stopWatching = await watchEvents(engine, name, 'die', () => died.push('die'));
  await startContainer(engine, name);
  expect((await inspectContainer(engine, name)).State.Running).toBe(true);
  const payload = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);
  const r = await exec(engine, name, ['sh', '-c', 'cat; echo to-stderr >&2; exit 7'], payload);
  expect(r.stdout.equals(payload)).toBe(true);
  expect(r.stderr).toBe('to-stderr\n');
  expect(r.code).toBe(7);
  const listed = await listContainers(engine, label);
  expect(listed.map((c) => [c.Names[0], c.State])).toEqual([[`/${name}`, 'running']]);
  // Logs are multiplexed frames: the container's first line is in them.
  expect((await containerLogs(engine, name, 3)).toString('latin1')).toContain('booted');
  await killContainer(engine, name);
  // The daemon's `die` event arrives on the stream (a poll with a generous limit: the machine may be loaded).
  for (let i = 0; i < 400 && died.length === 0; i++) await new Promise((res) => setTimeout(res, 25));
  stopWatching();
  expect(died.length).toBeGreaterThan(0);
  await removeContainer(engine, name);
  await expect(inspectContainer(engine, name)).rejects.toThrow(EngineError);
  await expect(inspectContainer(engine, name)).rejects.toThrow(/\(HTTP code 404\) - No such container/);
  expect(await listContainers(engine, label)).toEqual([]);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in `dir` (DOCKER_CERT_PATH's layout: ca.pem, cert.pem, key.pem). */
function makeCerts(dir: string): void {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=pcc-test-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, key, ext] of [['server-cert.pem', 'server-key.pem', 'server.ext'], ['cert.pem', 'key.pem', 'client.ext']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', 'req.csr', '-subj', '/CN=pcc-test');
    ssl('x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', name, '-days', '1', '-extfile', ext);
  }
}
const OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    process.stderr.write('docker engine TLS test SKIPPED: no openssl to make its certificates\n');
    return false;
  }
})();

/** Relays a client connection to the local daemon's socket, half-open both ways as a daemon's TCP socket is. */
function toDaemon(client: Socket): void {
  const daemon = connect({ path: '/var/run/docker.sock', allowHalfOpen: true });
  client.pipe(daemon).pipe(client);
  client.on('error', () => daemon.destroy());
  daemon.on('error', () => client.destroy());
}

describe.skipIf(!READY)('docker engine client (no dockerode)', () => {
  it('drives a container and an exec over the local socket: create, start, inspect, exec with stdin/stdout/stderr and its exit code, list, logs, events, kill, remove', async () => {
    await lifeCycle(Engine.of({}));
  });

  it('does the same to DOCKER_HOST=tcp://… (here a loopback forwarder to the socket)', async () => {
    let connections = 0;
    // Half-open both ways, as a daemon's TCP socket is: an exec's stdin closes, its output still flows back.
    forwarder = createServer({ allowHalfOpen: true }, (client) => {
      connections += 1;
      toDaemon(client);
    });
    tracked(forwarder);
    await new Promise<void>((r) => forwarder?.listen(0, '127.0.0.1', r));
    const port = (forwarder.address() as AddressInfo).port;
    await lifeCycle(Engine.of({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }));
    expect(connections).toBeGreaterThan(5);
  });

  it.skipIf(!OPENSSL)('does the same to DOCKER_HOST=tcp://… with DOCKER_TLS_VERIFY: the daemon’s certificate checked against DOCKER_CERT_PATH/ca.pem, ours presented', async () => {
    const certs = tempDir('pcc-engine-tls-');
    makeCerts(certs);
    const authorized: boolean[] = [];
    // A TLS front of the socket that wants a client certificate of the CA, half-open both ways.
    forwarder = createTlsServer(
      { key: readFileSync(join(certs, 'server-key.pem')), cert: readFileSync(join(certs, 'server-cert.pem')), ca: readFileSync(join(certs, 'ca.pem')), requestCert: true, rejectUnauthorized: true, allowHalfOpen: true },
      (client) => {
        authorized.push(client.authorized);
        toDaemon(client);
      },
    );
    tracked(forwarder);
    await new Promise<void>((r) => forwarder?.listen(0, '127.0.0.1', r));
    const port = (forwarder.address() as AddressInfo).port;
    await lifeCycle(Engine.of({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs }));
    expect(authorized.length).toBeGreaterThan(5);
    expect(authorized.every(Boolean)).toBe(true);
    // A daemon whose certificate is not of our CA is refused.
    const other = tempDir('pcc-engine-tls-other-');
    makeCerts(other);
    await expect(Engine.of({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: other }).raw('GET', '/_ping')).rejects.toThrow();
  });

  it('does the same to DOCKER_HOST=ssh://user@host:port through the user’s ssh and `docker system dial-stdio`', async () => {
    const bin = tempDir('pcc-fake-ssh-');
    const log = join(bin, 'argv.log');
    // The fake ssh records its argv and runs on "the remote machine" (this one) what it was given.
    // Our DOCKER_HOST must not reach it (a SendEnv would pass it on; here `docker` would dial itself): it refuses to run then.
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\n[ -n "\${DOCKER_HOST+x}" ] && { echo "DOCKER_HOST reached ssh" >&2; exit 97; }\nprintf '%s\\n' "$*" >> '${log}'\nwhile [ "$1" != "--" ]; do shift; done\nshift 2\nexec "$@"\n`);
    chmodSync(join(bin, 'ssh'), 0o755);
    await lifeCycle(Engine.of({ DOCKER_HOST: 'ssh://agent@build-box:2222', PATH: `${bin}:${process.env.PATH ?? ''}` }));
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.length).toBeGreaterThan(5);
    expect(new Set(calls)).toEqual(new Set(['-T -p 2222 -- agent@build-box docker system dial-stdio']));
  });

  it('says the daemon’s words when a call fails, and a dead ssh is an error, not a hang', async () => {
    const engine = Engine.of({});
    await expect(createContainer(engine, { name: `pcc-engine-test-${randomBytes(4).toString('hex')}`, Image: 'pcc-no-such-image:0' })).rejects.toThrow(/\(HTTP code 404\) - .*No such image/);
    const bin = tempDir('pcc-fake-ssh-');
    writeFileSync(join(bin, 'ssh'), '#!/bin/sh\necho "ssh: connect to host nowhere port 22: Connection refused" >&2\nexit 255\n');
    chmodSync(join(bin, 'ssh'), 0o755);
    await expect(Engine.of({ DOCKER_HOST: 'ssh://nowhere', PATH: `${bin}:${process.env.PATH ?? ''}` }).raw('GET', '/_ping')).rejects.toThrow(/ssh exited with 255: ssh: connect to host nowhere/);
  });
});
