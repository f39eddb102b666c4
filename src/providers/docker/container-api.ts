import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { query, type Engine } from './engine.js';

/**
 * The Engine API calls of a session's container and its execs, typed (the types are dockerode's,
 * erased at build time: nothing of dockerode is loaded). Each is one round trip to the daemon.
 */

const c = (id: string): string => `/containers/${encodeURIComponent(id)}`;

/** Creates a container (`options.name` as the query's name); resolves to its full id. */
export async function createContainer(engine: Engine, options: Docker.ContainerCreateOptions): Promise<string> {
  const { name, ...body } = options;
  return (await engine.call<{ Id: string }>('POST', `/containers/create?${query({ name: name ?? '' })}`, body)).Id;
}

/** Starts a container (an already running one is fine: the daemon answers 304). */
export const startContainer = (engine: Engine, id: string): Promise<unknown> => engine.call('POST', `${c(id)}/start`);

/** Removes a container with its anonymous volumes, running or not. */
export const removeContainer = (engine: Engine, id: string): Promise<unknown> => engine.call('DELETE', `${c(id)}?force=1&v=1`);

/** Sends SIGKILL to a container's pid 1. */
export const killContainer = (engine: Engine, id: string): Promise<unknown> => engine.call('POST', `${c(id)}/kill?signal=SIGKILL`);

/** A container's inspect answer. */
export const inspectContainer = (engine: Engine, id: string): Promise<Docker.ContainerInspectInfo> => engine.call('GET', `${c(id)}/json`);

/** The last `tail` lines a container printed (multiplexed: see diagnose.ts `demuxLogs`). */
export const containerLogs = (engine: Engine, id: string, tail: number): Promise<Buffer> => engine.raw('GET', `${c(id)}/logs?${query({ stdout: 1, stderr: 1, tail })}`);

/** One stats sample of a container (not streamed). */
export const containerStats = (engine: Engine, id: string): Promise<Docker.ContainerStats> => engine.call('GET', `${c(id)}/stats?stream=0`);

/** Every container (any state) that carries this label. */
export const listContainers = (engine: Engine, label: string): Promise<Docker.ContainerInfo[]> => engine.call('GET', `/containers/json?${query({ all: 1, filters: { label: [label] } })}`);

/** Calls `onEvent` for each of the daemon's `event` events of one container; resolves to the function that stops watching. */
export const watchEvents = (engine: Engine, name: string, event: string, onEvent: () => void): Promise<() => void> =>
  engine.lines(`/events?${query({ filters: { container: [name], event: [event] } })}`, onEvent);

/** An exec's inspect answer (is it still running, its exit code). */
export const inspectExec = (engine: Engine, execId: string): Promise<{ Running: boolean; ExitCode: number | null }> => engine.call('GET', `/exec/${encodeURIComponent(execId)}/json`);

/**
 * Creates an exec in a container and starts it, attached: resolves to its id and its raw,
 * multiplexed stream (stdin when `AttachStdin`; `end()` half-closes it). Two round trips.
 */
export async function startExec(engine: Engine, id: string, options: Docker.ExecCreateOptions): Promise<{ execId: string; stream: Duplex }> {
  const execId = (await engine.call<{ Id: string }>('POST', `${c(id)}/exec`, options)).Id;
  const stream = await engine.hijack('POST', `/exec/${encodeURIComponent(execId)}/start`, { Detach: false, Tty: false });
  return { execId, stream };
}
