import { randomBytes } from 'node:crypto';
import type { SandboxNetworkOpts } from 'e2b';
import { parseAllowEntry } from '../../core/net/allowlist.js';
import type { Credential } from '../../core/net/api-broker.js';
import type { SandboxEgress } from '../provider.js';

/** How the model API key is protected in an E2B session (doctor, `sandbox health`, the run's log). */
export type E2BKeyProtection = 'network-rules' | 'key-in-sandbox';

/** What {@link keyProtectionText} says about each mode. */
const TEXT: Record<E2BKeyProtection, string> = {
  'network-rules': "E2B network rules: the agent holds a placeholder key, E2B's egress proxy injects the real one for the model API host; egress is denied except the model API and --allow-domain hosts",
  'key-in-sandbox': 'key in the sandbox (providers.e2b.keyInSandbox): the agent process has the real API key as an env var and egress is not restricted',
};

/** One line saying which protection is in force. */
export function keyProtectionText(mode: E2BKeyProtection): string {
  return TEXT[mode];
}

/** The warning a run prints when the real key goes into the sandbox. */
export const KEY_IN_SANDBOX_WARNING =
  'E2B: the real API key is inside the cloud sandbox (providers.e2b.keyInSandbox / PARALLEL_CC_E2B_KEY_IN_SANDBOX): any code the agent runs can read it, and egress is not restricted. Use it only for templates or accounts without network rules.';

/** An allowlist entry as E2B takes it: allowOut has no ports, so an entry allows every port of its host. */
function hostOf(raw: string): string {
  const e = parseAllowEntry(raw);
  return `${e.wildcard ? '*.' : ''}${e.host}`;
}

/** The headers that carry a credential to the model API (the broker's own rule: core/net/api-broker.ts). */
function credentialHeaders(c: Credential): Record<string, string> {
  return c.kind === 'api-key' ? { 'x-api-key': c.value } : { Authorization: `Bearer ${c.value}` };
}

/**
 * The E2B network config of a session (spec: the same egress allowlist as native and docker):
 * everything denied (`0.0.0.0/0`) except the model API host and the allowed domains, and a rule
 * for the model API host that sets the real credential header on every request to it, so the
 * agent only ever holds `placeholder`.
 */
export function sessionNetwork(egress: SandboxEgress): { network: SandboxNetworkOpts; placeholder: Credential } {
  const apiHost = new URL(egress.apiUrl).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const placeholder: Credential = { kind: egress.credential.kind, value: `sk-ant-pcc-${randomBytes(18).toString('hex')}` };
  const allowOut = [...new Set([apiHost, ...egress.allowDomains.map(hostOf)])];
  return {
    placeholder,
    network: {
      denyOut: ['0.0.0.0/0'],
      allowOut,
      rules: { [apiHost]: [{ transform: { headers: credentialHeaders(egress.credential) } }] },
    },
  };
}

/** Which protection a live sandbox has, from its info's network config. */
export function protectionOf(network: { rules?: Record<string, unknown> } | undefined): E2BKeyProtection {
  return network?.rules && Object.keys(network.rules).length > 0 ? 'network-rules' : 'key-in-sandbox';
}
