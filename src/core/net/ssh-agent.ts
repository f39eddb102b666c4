import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../errors.js';
import { run } from '../exec.js';

/**
 * `--ssh-key`: a per-session `ssh-agent` on the host holding only that key, never the key itself in
 * the sandbox. The sandbox gets a filtering relay socket, not the agent's own: it may list the
 * identity and ask for signatures (and the session-bind extension ssh sends), nothing else — no
 * adding, removing, locking or exporting keys. The relay also lets a container user with another
 * uid reach an agent that checks its peer's uid. Both go when the session ends.
 */

/** Agent protocol requests the sandbox may make (RFC draft-miller-ssh-agent): identities, sign, extension. */
const ALLOWED_REQUESTS = new Set([11, 13, 27]);
const SSH_AGENT_FAILURE = Buffer.from([0, 0, 0, 1, 5]);
/** Largest agent message accepted from the sandbox (a sign request carries a session hash and a key). */
const MAX_MESSAGE = 256 * 1024;
const ANY_EXIT = Array.from({ length: 256 }, (_, i) => i);

/** A running per-session ssh-agent and its relay. */
export interface SessionSshAgent {
  /** The relay socket the sandbox gets (SSH_AUTH_SOCK inside). */
  socketPath: string;
  close(): Promise<void>;
}

/** Reads frames (uint32 length + body) from a stream, one at a time. */
class FrameReader {
  private buf = Buffer.alloc(0);
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
  }
  /** The next whole frame (with its length prefix), undefined when incomplete; throws on an oversized one. */
  next(): Buffer | undefined {
    if (this.buf.length < 4) return undefined;
    const len = this.buf.readUInt32BE(0);
    if (len === 0 || len > this.max) throw new Error('bad agent message length');
    if (this.buf.length < 4 + len) return undefined;
    const frame = this.buf.subarray(0, 4 + len);
    this.buf = this.buf.subarray(4 + len);
    return frame;
  }
}

/** One sandbox connection: each allowed request goes to the agent and its one answer comes back, in order. */
function relay(client: Socket, agentSocket: string): void {
  const agent = connect(agentSocket);
  const fromClient = new FrameReader(MAX_MESSAGE);
  const fromAgent = new FrameReader(16 * 1024 * 1024);
  const pending: Buffer[] = [];
  let waiting = false;
  const close = (): void => {
    client.destroy();
    agent.destroy();
  };
  // While a request is out at the agent, the sandbox's socket is not read: what it sends meanwhile
  // waits in the kernel, never in this process's memory.
  const pump = (): void => {
    while (!waiting) {
      const frame = pending.shift();
      if (!frame) {
        client.resume();
        return;
      }
      if (ALLOWED_REQUESTS.has(frame[4] ?? -1)) {
        waiting = true;
        client.pause();
        agent.write(frame);
      } else client.write(SSH_AGENT_FAILURE);
    }
  };
  client.on('data', (chunk: Buffer) => {
    try {
      fromClient.push(chunk);
      for (let f = fromClient.next(); f; f = fromClient.next()) pending.push(f);
      pump();
    } catch {
      close();
    }
  });
  agent.on('data', (chunk: Buffer) => {
    try {
      fromAgent.push(chunk);
      for (let f = fromAgent.next(); f; f = fromAgent.next()) {
        client.write(f);
        waiting = false;
      }
      pump();
    } catch {
      close();
    }
  });
  client.on('error', close);
  agent.on('error', close);
  client.on('close', close);
  agent.on('close', close);
}

/**
 * Validates an `--ssh-key` file before anything is created: it exists, is a regular file of a
 * sensible size, holds a private key (PEM/OpenSSH header), is readable by its owner only (ssh-add
 * refuses others too: refused here with the chmod to run), and has no passphrase (there is no
 * terminal to ask for one; `ssh-keygen -y -P ''` proves it opens without).
 */
export async function checkSshKey(path: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new AppError('usage', `--ssh-key ${path} does not exist`, { hint: 'Give the path of a private key, e.g. --ssh-key ~/.ssh/id_ed25519.' });
  if (!st.isFile()) throw new AppError('usage', `--ssh-key ${path} is not a regular file`);
  if (st.size === 0 || st.size > 64 * 1024) throw new AppError('usage', `--ssh-key ${path} is not a private key (${st.size} bytes)`);
  if ((st.mode & 0o077) !== 0) throw new AppError('usage', `--ssh-key ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, { hint: `Private keys must be private: chmod 600 ${path}` });
  const r = await run(['ssh-keygen', '-y', '-P', '', '-f', path], { errorKind: 'usage', timeoutMs: 10_000, okCodes: ANY_EXIT }).catch((e: unknown) => {
    throw new AppError('environment', 'ssh-keygen is not installed (needed for --ssh-key)', { cause: e, hint: 'Install the OpenSSH client: sudo apt-get install openssh-client.' });
  });
  if (r.exitCode === 0) return;
  if (/passphrase/i.test(r.stderr)) throw new AppError('usage', `--ssh-key ${path} is protected by a passphrase`, { hint: 'There is no terminal to ask for it: use a key without a passphrase (a deploy key), e.g. ssh-keygen -t ed25519 -N "" -f deploy_key.' });
  throw new AppError('usage', `--ssh-key ${path} is not a private key ssh can load`, { hint: r.stderr.trim().slice(0, 200) || 'Give a private key (not the .pub file).' });
}

/**
 * Starts `ssh-agent -D` with its socket in `dir/ssh-agent/` (never mounted), adds the key, and
 * listens on `dir/ssh.sock` with the filtering relay. A failure kills what was started.
 */
export async function startSshAgent(opts: { dir: string; keyPath: string }): Promise<SessionSshAgent> {
  const private_ = join(opts.dir, 'ssh-agent');
  await mkdir(private_, { mode: 0o700 });
  const agentSocket = join(private_, 'agent.sock');
  // Command mode: ssh-agent forks the agent and becomes the command, a `cat` of a pipe from this
  // process; the agent exits within 10 s once its parent is gone. So even a CLI killed with
  // SIGKILL (no teardown) leaves no agent holding the key: the pipe closes, cat ends, so does the agent.
  const child: ChildProcess = spawn('ssh-agent', ['-a', agentSocket, '--', 'sh', '-c', 'echo "$SSH_AGENT_PID"; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  let exited = false;
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stdin?.on('error', () => undefined);
  const gone = new Promise<void>((r) => child.on('close', () => ((exited = true), r())));
  child.on('error', (e) => ((exited = true), (stderr += e.message)));
  const agentPid = (): number | undefined => (/^(\d+)\n/.exec(stdout) ? Number(/^(\d+)\n/.exec(stdout)?.[1]) : undefined);
  const kill = async (): Promise<void> => {
    const pid = agentPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    child.stdin?.end();
    if (!exited) child.kill('SIGTERM');
    await gone;
  };
  try {
    // The socket appears once the agent listens: poll for it (up to 20 s on a loaded machine).
    for (let i = 0; ; i++) {
      if (exited) throw new Error(`ssh-agent exited: ${stderr.trim()}`);
      if (agentPid() !== undefined && (await stat(agentSocket).then((s) => s.isSocket(), () => false))) break;
      if (i > 400) throw new Error('ssh-agent did not start within 20 s');
      await sleep(50);
    }
    const added = await run(['ssh-add', opts.keyPath], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SSH_AUTH_SOCK: agentSocket, SSH_ASKPASS_REQUIRE: 'never' }, input: '', errorKind: 'environment', timeoutMs: 20_000, okCodes: ANY_EXIT });
    if (added.exitCode !== 0) throw new Error(`ssh-add failed: ${added.stderr.trim().slice(0, 300)}`);
  } catch (e) {
    await kill();
    throw new AppError('environment', `cannot start the session's ssh-agent: ${(e as Error).message}`, { cause: e, hint: 'Check that openssh-client (ssh-agent, ssh-add) is installed.' });
  }
  const socketPath = join(opts.dir, 'ssh.sock');
  const server = createServer((c) => relay(c, agentSocket));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  }).catch(async (e: unknown) => {
    await kill();
    throw e;
  });
  await chmod(socketPath, 0o666);
  return {
    socketPath,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await kill();
      await Promise.all([rm(socketPath, { force: true }), rm(private_, { recursive: true, force: true })]);
    },
  };
}
