import type Docker from 'dockerode';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors.js';
import { bridgeMounts } from '../local/bridges.js';
import { HOMEDIR, OPT, WORKDIR } from '../local/layout.js';
import { parseLimits } from '../local/limits.js';
import { neutralPath, packageMountPoint, requireSandboxDir, sandboxFiles } from '../local/sandbox-files.js';
import type { SandboxHandle, SandboxSpec } from '../provider.js';
import { freeLoopbackPort, type HostRuntime } from './host-runtime.js';

/** Where the host's node (binary, loader, libraries) is mounted for parallel-cc's own helpers. */
export const HOST_LIB = `${OPT}/lib`;
/** The pids limit of every sandbox container. */
export const PIDS_LIMIT = 512;
/** The sandbox user: never root (claude refuses to skip permissions as root). */
export const AGENT_UID = 1000;

type DockerConfig = Config['providers']['docker'];

/** The container name of a session (how `reattach`/`cleanup` find it again). */
export const containerName = (sessionId: string): string => `parallel-cc-${sessionId}`;

/** The user a sandbox container runs as: as root on the host, the sandbox user; otherwise you. */
export function containerUser(): string {
  const uid = process.getuid?.() ?? AGENT_UID;
  return uid === 0 ? `${AGENT_UID}:${AGENT_UID}` : `${uid}:${process.getgid?.() ?? uid}`;
}

/** A session container, ready to be created: its options and what the handle needs. */
export interface ContainerPlan {
  name: string;
  options: Docker.ContainerCreateOptions;
  /** The workspace's folder on the host (bound onto `workdir`): still root's when we run as root, for the caller to hand over. */
  workspace: string;
  endpoints: SandboxHandle['endpoints'];
  workdir: string;
  agentPath: string;
}

/**
 * The one place a session container's options are built, for the long-lived container of a run and
 * the one-shot container of `sandbox exec` alike, so both get every hardening flag (cap-drop ALL,
 * no-new-privileges, the user, read-only rootfs, tmpfs /tmp, memory = swap, NanoCpus, pids limit,
 * the configured network) and the same mounts. Every bind source is in the session's sandbox folder
 * (a random name under a neutral root): the container reads them in /proc/self/mountinfo, so they
 * must not name the host's folders. The host's node (`hostRuntime`) is mounted when it resolves to one.
 * Running as root, the caller must hand the workspace to {@link AGENT_UID} before the first command.
 */
export async function planContainer(spec: SandboxSpec, config: DockerConfig, hostRuntime: Promise<HostRuntime | undefined> | undefined, cmd: string[]): Promise<ContainerPlan> {
  const root = requireSandboxDir(spec, 'docker');
  const workspace = join(root, 'workspace');
  const home = join(root, 'home');
  await Promise.all([workspace, home].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
  // The workspace stays ours (root's) until its caller hands it over: a run's sandbox repo may be
  // made in it by the host first, and git refuses a repository owned by another user.
  if (process.getuid?.() === 0) await Promise.all([root, home].map((d) => chown(d, AGENT_UID, AGENT_UID)));
  const agentName = spec.agentName ?? 'claude';
  const files = await sandboxFiles(root, spec.agentBinary, agentName, spec.agentPackage?.dir);
  const workdir = spec.workdir ?? WORKDIR;
  const binds = [`${workspace}:${workdir}`, `${home}:${HOMEDIR}`, `${files.init}:${OPT}/init.cjs:ro`];
  // The host runtime's `ldd` runs while the folders and files above are made.
  const runtime = await hostRuntime;
  if (runtime) binds.push(...(await Promise.all(runtime.binds.map((b) => neutralBind(b, root)))));
  if (files.agent) binds.push(`${files.agent}:${OPT}/bin/${agentName}:ro`);
  if (files.agentPackage) binds.push(`${files.agentPackage}:${packageMountPoint(OPT, agentName)}:ro`);
  // On the host's network the container shares the host's loopback: a fixed port would collide
  // between parallel sessions, so take a free one. Only network `none` goes through the proxy.
  const bridges = bridgeMounts(spec.bridges, {
    ...(spec.bridges.apiSocket && config.network === 'host' ? { apiPort: await freeLoopbackPort() } : {}),
    ...(config.network === 'host' && spec.bridges.forwards
      ? { forwardPorts: { ...(spec.bridges.forwards.npm ? { npm: await freeLoopbackPort() } : {}), ...(spec.bridges.forwards.git ? { git: await freeLoopbackPort() } : {}) } }
      : {}),
    egress: config.network === 'none',
  });
  binds.push(...bridges.mounts.map((m) => `${m.src}:${m.dest}`));
  const { memoryBytes: memory, pids } = parseLimits({ memoryLimit: config.memoryLimit }, PIDS_LIMIT);
  const name = containerName(spec.sessionId);
  const options: Docker.ContainerCreateOptions = {
    name,
    Image: config.image,
    Cmd: cmd,
    User: containerUser(),
    WorkingDir: workdir,
    Labels: spec.labels,
    Env: [`HOME=${HOMEDIR}`, 'LANG=C.UTF-8', `PATH=${OPT}/bin:/usr/local/bin:/usr/bin:/bin`],
    HostConfig: {
      Binds: binds,
      NetworkMode: config.network,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=1g' },
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(config.cpuLimit * 1e9),
      PidsLimit: pids,
      Init: true,
    },
  };
  const agentPath = spec.agentPackage ? `${packageMountPoint(OPT, agentName)}/${spec.agentPackage.entry}` : `${OPT}/bin/${agentName}`;
  return { name, options, workspace, endpoints: bridges.endpoints, workdir, agentPath };
}

/** A node installed outside the system folders (nvm…, often in the user's home) is bound from a link in the sandbox folder. */
async function neutralBind(bind: string, root: string): Promise<string> {
  const [src, dest, mode] = bind.split(':') as [string, string, string];
  if (dest !== `${HOST_LIB}/node` || src.startsWith('/usr/') || src.startsWith('/bin/')) return bind;
  return `${await neutralPath(src, root, 'node')}:${dest}:${mode}`;
}

/** The docker daemon's words for a container that could not start, without the HTTP prefix. */
export const daemonMessage = (e: unknown): string => (e as Error).message.replace(/^\(HTTP code \d+\)[^-]*- /, '').trim();

/** Why a sandbox container could not be made (`doing`: create, start): a missing image says how to build it. */
export function containerError(image: string, e: unknown, doing: string, hint: string): AppError {
  if (/No such image/i.test((e as Error).message))
    return new AppError('environment', `the docker image ${image} is not on this machine`, { cause: e, hint: `Build it: docker build -t ${image} docker/, or use --docker-image.` });
  return new AppError('environment', `docker could not ${doing} the sandbox container from ${image}: ${daemonMessage(e)}`, { cause: e, hint });
}
