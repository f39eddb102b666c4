import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { AppError } from '../../errors.js';

/**
 * How the engine client reaches the daemon named by DOCKER_HOST: a unix socket (the default and
 * `unix://`), TCP (`tcp://`, with TLS when DOCKER_TLS_VERIFY is set: the certificates of
 * DOCKER_CERT_PATH, else ~/.docker, as the docker CLI does), or `ssh://` through the user's own ssh
 * running `docker system dial-stdio` on the remote machine (the docker CLI's way; the user's ssh
 * config, agent and known hosts apply). Each connection is a fresh stream.
 */
export type Dialer = { socketPath: string; label: string } | { connect: () => Duplex; label: string };

/** The dialer of DOCKER_HOST; an `environment` AppError when it cannot be understood. */
export function engineDialer(env: NodeJS.ProcessEnv): Dialer {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { socketPath: '/var/run/docker.sock', label: 'unix:///var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice(7), label: host };
  let url: URL;
  try {
    url = new URL(host);
  } catch (e) {
    throw badHost(host, e);
  }
  if (url.protocol === 'tcp:' && url.hostname) {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (env.DOCKER_TLS_VERIFY ? 2376 : 2375));
    if (!env.DOCKER_TLS_VERIFY) return { label: host, connect: () => netConnect({ host: hostname, port }) };
    const dir = env.DOCKER_CERT_PATH || join(env.HOME ?? '', '.docker');
    let certs: { ca: Buffer; cert: Buffer; key: Buffer } | undefined;
    return {
      label: host,
      connect: () => {
        certs ??= { ca: readFileSync(join(dir, 'ca.pem')), cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
        return tlsConnect({ host: hostname, port, ...certs, ...(/^[\d.:]+$/.test(hostname) ? {} : { servername: hostname }) });
      },
    };
  }
  if (url.protocol === 'ssh:' && url.hostname) {
    const target = `${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.hostname}`;
    const argv = ['-T', ...(url.port ? ['-p', url.port] : []), '--', target, 'docker', 'system', 'dial-stdio'];
    return { label: host, connect: () => sshStream(argv, env) };
  }
  throw badHost(host);
}

function badHost(host: string, cause?: unknown): AppError {
  return new AppError('environment', `DOCKER_HOST=${host} is not a docker address parallel-cc can reach`, {
    ...(cause ? { cause } : {}),
    hint: 'Use unix:///path/to/docker.sock, tcp://host:port (TLS with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH) or ssh://[user@]host[:port], or unset it for the local daemon.',
  });
}

/** One connection through `ssh … docker system dial-stdio`: its stdout is what the daemon says, its stdin what we send. */
function sshStream(argv: string[], env: NodeJS.ProcessEnv): Duplex {
  // Our DOCKER_HOST names the remote itself: it must never reach a `docker` there (a SendEnv would pass it).
  const { DOCKER_HOST: _self, ...rest } = env;
  const child = spawn('ssh', argv, { env: rest, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  // The daemon's side ends when ssh has exited, so a failed ssh is its own error (not "socket hang up").
  const readable = new PassThrough();
  child.stdout.pipe(readable, { end: false });
  // What we send goes through a stream of ours: a write to an ssh that already died is not the error to report.
  const writable = new PassThrough();
  writable.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  child.on('error', (e) => readable.destroy(e));
  child.on('close', (code) => {
    const said = Buffer.concat(stderr).toString('utf8').trim();
    if (code === 0) readable.end();
    else readable.destroy(new Error(`ssh exited with ${String(code)}${said ? `: ${said.slice(-500)}` : ''}`));
  });
  const stream = Duplex.from({ readable, writable });
  // Our side closed: the ssh process has nothing more to carry.
  stream.on('close', () => child.exitCode === null && child.kill());
  return stream;
}
