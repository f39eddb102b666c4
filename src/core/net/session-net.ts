import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { compileAllowlist } from './allowlist.js';
import { startApiBroker, type Credential } from './api-broker.js';
import type { BrokerGate } from './fleet.js';
import { startEgressProxy, type EgressRecord } from './egress-proxy.js';

/** The host-side network services of one session: credential broker and egress proxy. */
export interface SessionNet {
  /** Absent when the agent needs no model credential (no broker is started). */
  apiSocket?: string;
  egressSocket: string;
  denied(): number;
  /** Why the model API could not be reached on the last attempt, if it could not (see ApiBroker.unreachable). */
  apiUnreachable(): string | undefined;
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
  onEgress: (r: EgressRecord) => void;
}): Promise<SessionNet> {
  let allowlist;
  try {
    allowlist = compileAllowlist([...(opts.api ? [modelApiEntry(opts.api.upstream)] : []), ...opts.allowDomains]);
  } catch (e) {
    throw new AppError('usage', (e as Error).message, { hint: ALLOW_HINT });
  }
  const broker = opts.api ? await startApiBroker({ socketPath: join(opts.dir, 'api.sock'), ...opts.api }) : undefined;
  const egress = await startEgressProxy({
    socketPath: join(opts.dir, 'egress.sock'),
    allowlist,
    record: (r) => {
      appendFileSync(opts.egressLogPath, `${JSON.stringify(r)}\n`, { mode: 0o600 });
      opts.onEgress(r);
    },
  });
  return {
    ...(broker ? { apiSocket: broker.socketPath } : {}),
    egressSocket: egress.socketPath,
    denied: () => egress.denied(),
    apiUnreachable: () => broker?.unreachable(),
    close: async () => {
      await Promise.all([broker?.close(), egress.close()]);
    },
  };
}
