import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors.js';
import { QueuedExecHandle } from '../chunk-queue.js';
import { bridgedArgv } from '../local/bridges.js';
import { sandboxEnv } from '../local/layout.js';
import { copyIntoWorkspace } from '../local/upload.js';
import type { ExecExit, ExecHandle, ExecRequest, SandboxSpec, UploadSource } from '../provider.js';
import { AGENT_UID, containerError, daemonMessage, planContainer } from './container-spec.js';
import { createContainer, killContainer, removeContainer, startContainer } from './container-api.js';
import { demux, type Engine } from './engine.js';
import { chownTree, type HostRuntime } from './host-runtime.js';

type DockerConfig = Config['providers']['docker'];

/** What a one-shot container needs from its provider. */
export interface OneShotDeps {
  /** The daemon (engine.ts, without dockerode: its import alone costs more than the rest of an exec). */
  engine: Engine;
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
  if (upload) await copyIntoWorkspace(plan.workspace, upload);
  if (process.getuid?.() === 0) await chownTree(plan.workspace, AGENT_UID);
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
  const { engine } = deps;
  let id: string;
  try {
    id = await createContainer(engine, options);
  } catch (e) {
    throw containerError(deps.config.image, e, 'create', deps.imageHint);
  }
  const container = { start: () => startContainer(engine, id), kill: () => killContainer(engine, id), remove: () => removeContainer(engine, id) };
  try {
    const stream = await engine.attach(id);
    // Asked before the start, as `docker run --rm` does: an auto-removed container cannot be waited for afterwards.
    const removed = engine.call<{ StatusCode: number }>('POST', `/containers/${id}/wait?condition=removed`);
    removed.catch(() => undefined);
    const handle = new OneShotHandle(container, stream, removed, req.stdin);
    // Resolved once the command runs (or could not start, which its exit says).
    await handle.started;
    return handle;
  } catch (e) {
    await container.remove().catch(() => undefined);
    throw new AppError('environment', `docker could not attach to the sandbox container: ${daemonMessage(e)}`, { cause: e, hint: deps.imageHint });
  }
}

/** What the handle does to its container. */
interface OneShotContainer {
  start(): Promise<unknown>;
  kill(): Promise<unknown>;
  remove(): Promise<unknown>;
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
    private readonly container: OneShotContainer,
    stream: Duplex,
    removed: Promise<{ StatusCode: number }>,
    stdin: string | Buffer | undefined,
  ) {
    super();
    demux(stream, (which, data) => this.out.push({ stream: which, data }));
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
        await container.remove().catch(() => undefined);
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
      // The wait failed (a dropped connection…): the container may still be there, so remove it ourselves.
      if (ok && status === null) await this.container.remove().catch(() => undefined);
      return this.killed ? { exitCode: status ?? 137, signal: 'SIGKILL' } : { exitCode: status, signal: null };
    });
  }

  async kill(): Promise<void> {
    if (this.out.done) return;
    this.killed = true;
    // SIGKILL to docker-init (the container's pid 1) ends every process of the container.
    if (await this.started) await this.container.kill().catch(() => undefined);
    await this.exit;
  }
}
