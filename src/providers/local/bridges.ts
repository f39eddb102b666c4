import type { SandboxHandle, SandboxSpec } from '../provider.js';
import { OPT } from './layout.js';

/**
 * The host bridges of a local sandbox: the credential broker and the egress proxy listen on unix
 * sockets on the host, mounted into the sandbox under `/opt/parallel-cc/run/`; init.cjs (the
 * sandbox's first process) listens on loopback ports inside and forwards to them, so the agent
 * talks plain HTTP to 127.0.0.1 and never reaches any other network.
 */

/** Loopback ports inside the sandbox's own network namespace, bridged to the host sockets. */
export const LOCAL_PORTS = { api: 43127, proxy: 43128 } as const;

/** Where each host socket is mounted inside the sandbox. */
export const BRIDGE_SOCKETS = { api: `${OPT}/run/api.sock`, proxy: `${OPT}/run/egress.sock` } as const;

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
export function bridgeMounts(bridges: SandboxSpec['bridges'], opts: { apiPort?: number; egress?: boolean } = {}): { mounts: SocketMount[]; endpoints: SandboxHandle['endpoints'] } {
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
  return { mounts, endpoints };
}

/**
 * The argv that runs a command: through init.cjs (on `node`, an argv prefix) when it needs the
 * network and the sandbox has bridges, else the command itself.
 */
export function bridgedArgv(node: readonly string[], endpoints: SandboxHandle['endpoints'], req: { argv: readonly string[]; network?: boolean }): string[] {
  const bridges = [
    ...(endpoints.api ? [{ port: Number(new URL(endpoints.api).port), socket: BRIDGE_SOCKETS.api }] : []),
    ...(endpoints.proxy ? [{ port: LOCAL_PORTS.proxy, socket: BRIDGE_SOCKETS.proxy }] : []),
  ];
  return req.network && bridges.length > 0 ? [...node, `${OPT}/init.cjs`, JSON.stringify({ bridges, argv: req.argv })] : [...req.argv];
}
