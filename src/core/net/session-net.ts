import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { compileAllowlist } from './allowlist.js';
import { startApiBroker, type Credential } from './api-broker.js';
import type { BrokerGate } from './fleet.js';
import { startEgressProxy, type EgressRecord } from './egress-proxy.js';
import { startCredForwarder, type CredForwarder, type ForwardRecord } from './cred-forward.js';
import { startSshAgent, type SessionSshAgent } from './ssh-agent.js';
import type { PrivateDeps } from '../private-deps.js';
import type { SandboxBridges } from '../../providers/provider.js';

/** The host-side network services of one session: credential broker and egress proxy. */
export interface SessionNet {
  /** Absent when the agent needs no model credential (no broker is started). */
  apiSocket?: string;
  egressSocket: string;
  denied(): number;
  /** Why the model API could not be reached on the last attempt, if it could not (see ApiBroker.unreachable). */
  apiUnreachable(): string | undefined;
  /** The host sockets a sandbox mounts: broker, proxy, credential forwarders, ssh-agent relay. */
  bridges(): SandboxBridges;
  close(): Promise<void>;
}

const ALLOW_HINT = 'Use --allow-domain example.com (ports 443 and 80), *.example.com (subdomains) or host:port (that port only, 1-65535).';

/**
 * The allowlist entry of the model API: its exact `host:port` (the URL's port, else 443/80 by
 * scheme). A local gateway (`http://127.0.0.1:4000`) must not open the host's other services.
 */
export function modelApiEntry(upstream: string): string {
  const url = new URL(upstream);
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

/**
 * Validates allowlist entries before anything is created (exit 2 with the entry and where it came
 * from); `sandbox run` and `--multi` call it with the config's entries and the flags'.
 */
export function checkAllowDomains(entries: readonly string[], source: string): void {
  try {
    compileAllowlist(entries);
  } catch (e) {
    throw new AppError('usage', `${source}: ${(e as Error).message}`, { hint: ALLOW_HINT });
  }
}

/** Validates the configured (config file / PARALLEL_CC_NATIVE_ALLOWED_DOMAINS) and the --allow-domain entries. */
export function checkRunAllowlist(configured: readonly string[], flagged: readonly string[] = []): void {
  checkAllowDomains(configured, 'providers.native.allowedDomains (config or PARALLEL_CC_NATIVE_ALLOWED_DOMAINS)');
  checkAllowDomains(flagged, '--allow-domain');
}

/**
 * Starts the per-session broker and egress proxy on unix sockets in `dir` (a short private temp
 * folder: socket paths are limited to ~108 bytes). The model API's exact host:port is always allowlisted.
 */
export async function startSessionNet(opts: {
  dir: string;
  /** The model API behind the broker; absent: no broker and no model API on the allowlist (the `command` agent). */
  api?: { upstream: string; placeholder: string; credential: Credential; headers?: Record<string, string>; gate?: BrokerGate };
  allowDomains: readonly string[];
  egressLogPath: string;
  onEgress: (r: EgressRecord | ForwardRecord) => void;
  /** `--npm-token`, `--github-token`, `--ssh-key`: forwarders and an ssh-agent for this session only. */
  privateDeps?: PrivateDeps;
}): Promise<SessionNet> {
  let allowlist;
  try {
    allowlist = compileAllowlist([...(opts.api ? [modelApiEntry(opts.api.upstream)] : []), ...opts.allowDomains]);
  } catch (e) {
    throw new AppError('usage', (e as Error).message, { hint: ALLOW_HINT });
  }
  const broker = opts.api ? await startApiBroker({ socketPath: join(opts.dir, 'api.sock'), ...opts.api }) : undefined;
  const record = (r: EgressRecord | ForwardRecord): void => {
    appendFileSync(opts.egressLogPath, `${JSON.stringify(r)}\n`, { mode: 0o600 });
    opts.onEgress(r);
  };
  const egress = await startEgressProxy({ socketPath: join(opts.dir, 'egress.sock'), allowlist, record });
  const extras = await startPrivateDeps(opts.dir, opts.privateDeps, record).catch(async (e: unknown) => {
    await Promise.all([broker?.close(), egress.close()]);
    throw e;
  });
  return {
    ...(broker ? { apiSocket: broker.socketPath } : {}),
    egressSocket: egress.socketPath,
    denied: () => egress.denied(),
    apiUnreachable: () => broker?.unreachable(),
    bridges: () => ({
      ...(broker ? { apiSocket: broker.socketPath } : {}),
      egressSocket: egress.socketPath,
      ...(extras.forwards.length ? { forwards: Object.fromEntries(extras.forwards.map((f) => [f.kind, f.socketPath])) } : {}),
      ...(extras.ssh ? { sshAgentSocket: extras.ssh.socketPath } : {}),
    }),
    // Revocation: the endpoints and the ssh-agent go with the session.
    close: async () => {
      await Promise.all([broker?.close(), egress.close(), ...extras.forwards.map((f) => f.close()), extras.ssh?.close()]);
    },
  };
}

/** Starts the session's credential forwarders and ssh-agent; a failure closes what was started. */
async function startPrivateDeps(dir: string, deps: PrivateDeps | undefined, record: (r: ForwardRecord) => void): Promise<{ forwards: CredForwarder[]; ssh?: SessionSshAgent }> {
  const forwards: CredForwarder[] = [];
  try {
    if (deps?.npm) forwards.push(await startCredForwarder({ kind: 'npm', socketPath: join(dir, 'npm.sock'), upstream: deps.npm.registry, token: deps.npm.token, record }));
    if (deps?.github) forwards.push(await startCredForwarder({ kind: 'git', socketPath: join(dir, 'git.sock'), upstream: deps.github.url, token: deps.github.token, record }));
    const ssh = deps?.ssh ? await startSshAgent({ dir, keyPath: deps.ssh.keyPath }) : undefined;
    return { forwards, ...(ssh ? { ssh } : {}) };
  } catch (e) {
    await Promise.all(forwards.map((f) => f.close()));
    throw e;
  }
}
