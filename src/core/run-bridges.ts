import { join } from 'node:path';
import type { Agent } from '../agents/agent.js';
import type { StreamEvent } from './events.js';
import type { Credential } from './net/api-broker.js';
import type { BrokerGate } from './net/fleet.js';
import { startSessionNet, type SessionNet } from './net/session-net.js';
import { privateDepAllowlist, type PrivateDeps } from './private-deps.js';

/**
 * Starts a local sandbox's host bridges in `netDir`: the credential broker (the agent gets a
 * placeholder, the real key stays on the host) when the agent has a model API, and the egress
 * proxy with the allowlist. Returns the bridges and the credential the agent is launched with.
 */
export async function openBridges(opts: {
  netDir: string;
  sessionDir: string;
  agent: Agent;
  credential: Credential | undefined;
  upstream: string | undefined;
  allowDomains: string[];
  privateDeps?: PrivateDeps;
  /** The session's gate into the fleet (limits, backoff, exact cost, budgets). */
  gate?: BrokerGate;
  emit: (e: Extract<StreamEvent, { type: 'egress' }>) => void;
}): Promise<{ net: SessionNet; agentCredential: Credential | undefined }> {
  const { agent, credential, upstream } = opts;
  const placeholder = agent.credential && credential && upstream ? agent.credential.placeholder() : undefined;
  const net = await startSessionNet({
    dir: opts.netDir,
    ...(placeholder && credential && upstream ? { api: { upstream, placeholder, credential, headers: agent.credential?.headers(credential) ?? {}, ...(opts.gate ? { gate: opts.gate } : {}) } } : {}),
    allowDomains: [...opts.allowDomains, ...privateDepAllowlist(opts.privateDeps)],
    ...(opts.privateDeps ? { privateDeps: opts.privateDeps } : {}),
    egressLogPath: join(opts.sessionDir, 'egress.ndjson'),
    onEgress: (r) => opts.emit({ type: 'egress', host: r.host, port: r.port, allowed: r.allowed, ...(r.reason ? { reason: r.reason } : {}), ...('via' in r ? { via: r.via, method: r.method, path: r.path } : {}) }),
  });
  return { net, agentCredential: placeholder ? { kind: 'api-key', value: placeholder } : credential };
}
