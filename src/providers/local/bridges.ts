import type { SandboxHandle, SandboxSpec } from '../provider.js';
import { OPT } from './layout.js';

/**
 * The host bridges of a local sandbox: the credential broker and the egress proxy listen on unix
 * sockets on the host, mounted into the sandbox under `/opt/parallel-cc/run/`; init.cjs (the
 * sandbox's first process) listens on loopback ports inside and forwards to them, so the agent
 * talks plain HTTP to 127.0.0.1 and never reaches any other network.
 */

/** Loopback ports inside the sandbox's own network namespace, bridged to the host sockets. */
export const LOCAL_PORTS = { api: 43127, proxy: 43128, npm: 43129, git: 43130 } as const;

/** Where each host socket is mounted inside the sandbox. */
export const BRIDGE_SOCKETS = { api: `${OPT}/run/api.sock`, proxy: `${OPT}/run/egress.sock`, npm: `${OPT}/run/npm.sock`, git: `${OPT}/run/git.sock`, ssh: `${OPT}/run/ssh-agent.sock` } as const;

const FORWARDS = ['npm', 'git'] as const;

/** One socket to mount: host path → sandbox path. */
export interface SocketMount {
  src: string;
  dest: string;
}

/**
 * The socket mounts and endpoints of a new sandbox. `apiPort` is where the broker bridge listens
 * (a free host port when the sandbox shares the host's loopback); `egress: false` leaves the proxy
 * out (a sandbox with a network of its own does not go through it).
 */
export function bridgeMounts(bridges: SandboxSpec['bridges'], opts: { apiPort?: number; egress?: boolean; forwardPorts?: Partial<Record<'npm' | 'git', number>> } = {}): { mounts: SocketMount[]; endpoints: SandboxHandle['endpoints'] } {
  const mounts: SocketMount[] = [];
  const endpoints: SandboxHandle['endpoints'] = {};
  if (bridges.apiSocket) {
    mounts.push({ src: bridges.apiSocket, dest: BRIDGE_SOCKETS.api });
    endpoints.api = `http://127.0.0.1:${opts.apiPort ?? LOCAL_PORTS.api}`;
  }
  if (bridges.egressSocket && opts.egress !== false) {
    mounts.push({ src: bridges.egressSocket, dest: BRIDGE_SOCKETS.proxy });
    endpoints.proxy = `http://127.0.0.1:${LOCAL_PORTS.proxy}`;
  }
  for (const name of FORWARDS) {
    const socket = bridges.forwards?.[name];
    if (!socket) continue;
    mounts.push({ src: socket, dest: BRIDGE_SOCKETS[name] });
    (endpoints.forwards ??= {})[name] = `http://127.0.0.1:${opts.forwardPorts?.[name] ?? LOCAL_PORTS[name]}`;
  }
  if (bridges.sshAgentSocket) {
    mounts.push({ src: bridges.sshAgentSocket, dest: BRIDGE_SOCKETS.ssh });
    endpoints.sshAuthSock = BRIDGE_SOCKETS.ssh;
  }
  return { mounts, endpoints };
}

/** Chained commands as init.cjs runs them (ExecRequest.then, each with its final environment and folder). */
export interface Chained {
  steps: Array<{ argv: readonly string[]; env: Record<string, string>; cwd: string }>;
  mark: string;
}

/** ExecRequest.then as init.cjs runs it: each step's environment made whole by `env`, in the folder `cwd`. */
export function chained(then: { steps: ReadonlyArray<{ argv: readonly string[]; env?: Record<string, string> }>; mark: string } | undefined, cwd: string, env: (e?: Record<string, string>) => Record<string, string>): Chained | undefined {
  return then && { mark: then.mark, steps: then.steps.map((s) => ({ argv: s.argv, env: env(s.env), cwd })) };
}

/**
 * The argv that runs a command: through init.cjs (on `node`, an argv prefix) when it needs the
 * network and the sandbox has bridges, or has a chained step, else the command itself.
 */
export function bridgedArgv(node: readonly string[], endpoints: SandboxHandle['endpoints'], req: { argv: readonly string[]; network?: boolean }, then?: Chained): string[] {
  const bridges = !req.network
    ? []
    : [
        ...(endpoints.api ? [{ port: Number(new URL(endpoints.api).port), socket: BRIDGE_SOCKETS.api }] : []),
        ...(endpoints.proxy ? [{ port: LOCAL_PORTS.proxy, socket: BRIDGE_SOCKETS.proxy }] : []),
        ...FORWARDS.flatMap((name) => {
          const url = endpoints.forwards?.[name];
          return url ? [{ port: Number(new URL(url).port), socket: BRIDGE_SOCKETS[name] }] : [];
        }),
      ];
  return bridges.length > 0 || then ? [...node, `${OPT}/init.cjs`, JSON.stringify({ bridges, argv: req.argv, ...(then ? { then } : {}) })] : [...req.argv];
}
