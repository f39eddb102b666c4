import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { compileAllowlist } from './allowlist.js';
import { startApiBroker, type Credential } from './api-broker.js';
import { startEgressProxy, type EgressRecord } from './egress-proxy.js';

/** The host-side network services of one session: credential broker and egress proxy. */
export interface SessionNet {
  apiSocket: string;
  egressSocket: string;
  denied(): number;
  /** Why the model API could not be reached on the last attempt, if it could not (see ApiBroker.unreachable). */
  apiUnreachable(): string | undefined;
  close(): Promise<void>;
}

/**
 * Starts the per-session broker and egress proxy on unix sockets in `dir` (a short private temp
 * folder: socket paths are limited to ~108 bytes). The model API host is always allowlisted.
 */
export async function startSessionNet(opts: {
  dir: string;
  upstream: string;
  placeholder: string;
  credential: Credential;
  allowDomains: readonly string[];
  egressLogPath: string;
  onEgress: (r: EgressRecord) => void;
}): Promise<SessionNet> {
  let allowlist;
  try {
    allowlist = compileAllowlist([new URL(opts.upstream).hostname, ...opts.allowDomains]);
  } catch (e) {
    throw new AppError('usage', (e as Error).message, { hint: 'Use --allow-domain example.com, *.example.com or host:port.' });
  }
  const broker = await startApiBroker({ socketPath: join(opts.dir, 'api.sock'), upstream: opts.upstream, placeholder: opts.placeholder, credential: opts.credential });
  const egress = await startEgressProxy({
    socketPath: join(opts.dir, 'egress.sock'),
    allowlist,
    record: (r) => {
      appendFileSync(opts.egressLogPath, `${JSON.stringify(r)}\n`, { mode: 0o600 });
      opts.onEgress(r);
    },
  });
  return {
    apiSocket: broker.socketPath,
    egressSocket: egress.socketPath,
    denied: () => egress.denied(),
    apiUnreachable: () => broker.unreachable(),
    close: async () => {
      await Promise.all([broker.close(), egress.close()]);
    },
  };
}
