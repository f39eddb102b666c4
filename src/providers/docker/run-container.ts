import type { Config } from '../../config/schema.js';
import type { SandboxSpec } from '../provider.js';
import { createContainer, startContainer, watchEvents } from './container-api.js';
import { AGENT_UID, containerError, planContainer, type ContainerPlan } from './container-spec.js';
import { whyStopped } from './diagnose.js';
import type { Engine } from './engine.js';
import { chownTree, type HostRuntime } from './host-runtime.js';

/** A session's container as the process that created or reconnected it knows it. */
export interface LiveContainer {
  /** The daemon's full id (the host's cgroup paths carry it). */
  id: string;
  /** The workspace's folder on the host. */
  workspace: string | undefined;
  /** How it runs parallel-cc's helpers: the mounted host node, or the image's `node`. */
  node: string[];
  /**
   * No command has run in it yet (only the host has written its workspace: our upload, the host's
   * sandbox repo init): the host may still work in the workspace, see the provider's `hostWorkdir`.
   */
  fresh: boolean;
  /** Settles once the container runs (rejects with why it could not start). */
  started: Promise<void>;
  /** The daemon's `oom` events counted so far. */
  oom: { count: number; stop: () => void };
  /** What every command waits for (see {@link readyForCommands}). */
  ready?: Promise<void>;
}

/**
 * Creates a run's container and starts it without waiting for the start (~350 ms that the upload
 * and the host-side sandbox repo init run during): `started` says how it went, and the first
 * command waits for it (`readyForCommands`). The daemon's `oom` events are watched from now.
 */
export async function createRunContainer(engine: Engine, spec: SandboxSpec, config: Config['providers']['docker'], runtime: Promise<HostRuntime | undefined>, imageHint: string): Promise<{ plan: ContainerPlan; live: LiveContainer }> {
  const plan = await planContainer(spec, config, runtime, ['sleep', 'infinity']);
  let id: string;
  try {
    id = await createContainer(engine, plan.options);
  } catch (e) {
    throw containerError(config.image, e, 'create', imageHint);
  }
  const oom = { count: 0, stop: (): void => undefined };
  const started = (async () => {
    const watching = watchEvents(engine, plan.name, 'oom', () => (oom.count += 1)).then((stop) => void (oom.stop = stop), () => undefined);
    await startContainer(engine, id);
    // An image without `sleep` starts and stops at once: say so at the first command, not as the agent's failure.
    const stopped = await whyStopped(engine, id);
    if (stopped) throw new Error(stopped);
    await watching;
  })().catch((e: unknown) => {
    throw containerError(config.image, e, 'start', imageHint);
  });
  // Observed by the first command or the teardown.
  started.catch(() => undefined);
  const node = (await runtime)?.node ?? ['node'];
  return { plan, live: { id, workspace: plan.workspace, node, fresh: true, started, oom } };
}

/**
 * The gate before a container's first command: the container runs, and — as root — the workspace
 * is handed to the sandbox user as a whole, after everything the host wrote into it (upload,
 * sandbox repo), with lchown (a link's target is never touched). Nothing in the container could
 * have written there before: `sleep` as the sandbox user in a folder that is still root's (0700).
 * From here on the workspace is the agent's and the host no longer works in it.
 */
export function readyForCommands(live: LiveContainer): Promise<void> {
  if (!live.ready) {
    live.fresh = false;
    const handOver = process.getuid?.() === 0 && live.workspace ? chownTree(live.workspace, AGENT_UID) : Promise.resolve();
    live.ready = Promise.all([live.started, handOver]).then(() => undefined);
  }
  return live.ready;
}
