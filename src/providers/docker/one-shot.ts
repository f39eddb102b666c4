import type Docker from 'dockerode';
import { join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors.js';
import { QueuedExecHandle } from '../chunk-queue.js';
import { bridgedArgv } from '../local/bridges.js';
import { sandboxEnv } from '../local/layout.js';
import { copyIntoWorkspace } from '../local/upload.js';
import type { ExecExit, ExecHandle, ExecRequest, SandboxSpec, UploadSource } from '../provider.js';
import { AGENT_UID, daemonMessage, planContainer } from './container-spec.js';
import { chownTree, type HostRuntime } from './host-runtime.js';

type DockerConfig = Config['providers']['docker'];

/** What a one-shot container needs from its provider. */
export interface OneShotDeps {
  docker: Docker;
  config: DockerConfig;
  /** The host's node runtime of the provider (cached per process), loaded only when a bridge needs it. */
  runtime: () => Promise<HostRuntime | undefined>;
  imageHint: string;
}

/** `docker run`'s exit codes for a command that could not be started: not found 127, not executable 126, else 125. */
export function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 125;
}

/**
 * Runs one command as a container's own process (what `docker run --rm` does): create with the
 * command as Cmd → attach → wait for removal → start, with `AutoRemove`, instead of a `sleep`
 * container, an exec, its inspect and a remove — two to four fewer daemon round trips. The container
 * is the same hardened container as a session's (`planContainer`). Rejects like `create` when the
 * container cannot be made; a command that cannot be started ends with docker's 127/126/125 and the
 * daemon's words on stderr. The container is gone when `wait()` resolves: removed by the daemon as
 * the command ends, and by us as well when it never started. A CLI killed meanwhile leaves a
 * container that removes itself when its command ends (the caller marks its folder for `cleanup`).
 */
export async function runOneShot(deps: OneShotDeps, spec: SandboxSpec, req: ExecRequest, upload?: UploadSource): Promise<ExecHandle> {
  const needsNode = req.network === true && Object.values(spec.bridges).some(Boolean);
  const runtime = needsNode ? deps.runtime() : undefined;
  const plan = await planContainer(spec, deps.config, runtime, []);
  if (upload) {
    const workspace = join(spec.sandboxDir as string, 'workspace');
    await copyIntoWorkspace(workspace, upload);
    if (process.getuid?.() === 0) await chownTree(workspace, AGENT_UID);
  }
  const node = (await runtime)?.node ?? ['node'];
  const options: Docker.ContainerCreateOptions = {
    ...plan.options,
    Cmd: bridgedArgv(node, plan.endpoints, req),
    Env: Object.entries(sandboxEnv(req.env)).map(([k, v]) => `${k}=${v}`),
    WorkingDir: req.cwd ?? plan.workdir,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    // The command's stdin closes when we half-close ours (and when a killed CLI's connection drops).
    StdinOnce: true,
    Tty: false,
    HostConfig: { ...plan.options.HostConfig, AutoRemove: true },
  };
  let container: Docker.Container;
  try {
    container = await deps.docker.createContainer(options);
  } catch (e) {
    if (/No such image/i.test((e as Error).message)) {
      throw new AppError('environment', `the docker image ${deps.config.image} is not on this machine`, { cause: e, hint: `Build it: docker build -t ${deps.config.image} docker/, or use --docker-image.` });
    }
    throw new AppError('environment', `docker could not create the sandbox container from ${deps.config.image}: ${daemonMessage(e)}`, { cause: e, hint: deps.imageHint });
  }
  try {
    const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    // Asked before the start, as `docker run --rm` does: an auto-removed container cannot be waited for afterwards.
    const removed = container.wait({ condition: 'removed' }) as Promise<{ StatusCode: number }>;
    removed.catch(() => undefined);
    const handle = new OneShotHandle(deps.docker, container, stream, removed, req.stdin);
    // Resolved once the command runs (or could not start, which its exit says).
    await handle.started;
    return handle;
  } catch (e) {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    throw new AppError('environment', `docker could not attach to the sandbox container: ${daemonMessage(e)}`, { cause: e, hint: deps.imageHint });
  }
}

/** The handle of a one-shot container: its output demultiplexed, its exit from the daemon's wait. */
class OneShotHandle extends QueuedExecHandle {
  protected readonly exit: Promise<ExecExit>;
  private killed = false;
  /** Whether the container started (false: the command could not be started, see `failure`). */
  readonly started: Promise<boolean>;
  /** The exit code of a command that could not be started. */
  private failure: number | null = null;

  constructor(
    docker: Docker,
    private readonly container: Docker.Container,
    stream: Duplex,
    removed: Promise<{ StatusCode: number }>,
    stdin: string | Buffer | undefined,
  ) {
    super();
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (d: Buffer) => this.out.push({ stream: 'stdout', data: d }));
    err.on('data', (d: Buffer) => this.out.push({ stream: 'stderr', data: d }));
    docker.modem.demuxStream(stream, out, err);
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    this.started = container.start().then(
      () => {
        if (stdin !== undefined && stdin.length > 0) stream.write(stdin);
        // Half-close: the daemon closes the command's stdin, the output side stays open.
        stream.end();
        return true;
      },
      async (e: unknown) => {
        const message = daemonMessage(e);
        this.out.push({ stream: 'stderr', data: Buffer.from(`docker: ${message}\n`) });
        stream.destroy();
        // A container that never started is not removed by the daemon.
        await container.remove({ force: true, v: true }).catch(() => undefined);
        this.failure = startFailureCode(message);
        return false;
      },
    );
    this.exit = this.started.then(async (ok) => {
      const status = ok ? await removed.then((r) => r.StatusCode, () => null) : this.failure;
      await ended;
      // Output flushed before the exit is known to the caller.
      await new Promise<void>((r) => setImmediate(r));
      this.out.finish();
      // A container removed by the daemon despite a failed wait is looked for once more.
      if (ok && status === null) await this.container.remove({ force: true, v: true }).catch(() => undefined);
      return this.killed ? { exitCode: status ?? 137, signal: 'SIGKILL' } : { exitCode: status, signal: null };
    });
  }

  async kill(): Promise<void> {
    if (this.out.done) return;
    this.killed = true;
    // SIGKILL to docker-init (the container's pid 1) ends every process of the container.
    if (await this.started) await this.container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    await this.exit;
  }
}
