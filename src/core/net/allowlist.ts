import { BlockList, isIP } from 'node:net';

/** A compiled domain allowlist: `example.com`, `*.example.com` (subdomains), optional `:port`. */
export interface Allowlist {
  /** 'exact' when the host is named as is, 'wildcard' when only a *.pattern matched, undefined when denied. */
  match(host: string, port: number): 'exact' | 'wildcard' | undefined;
  readonly entries: readonly string[];
}

/** Normalises a host for comparison (lower case, no trailing dot, no IPv6 brackets). */
export function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** Compiles allowlist entries; invalid entries throw with the entry named. */
export function compileAllowlist(entries: readonly string[]): Allowlist {
  const rules = entries.map((raw) => {
    const entry = raw.trim();
    const m = /^(\*\.)?([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?$/i.exec(entry);
    if (!m) throw new Error(`invalid allowlist entry "${raw}" (expected host, *.domain or host:port)`);
    return { wildcard: m[1] !== undefined, host: normaliseHost(m[2] as string), port: m[3] ? Number(m[3]) : undefined };
  });
  return {
    entries,
    match(hostIn, port) {
      const host = normaliseHost(hostIn);
      let best: 'exact' | 'wildcard' | undefined;
      for (const r of rules) {
        if (r.port !== undefined && r.port !== port) continue;
        if (!r.wildcard && r.host === host) return 'exact';
        if (r.wildcard && host.endsWith(`.${r.host}`)) best = 'wildcard';
      }
      return best;
    },
  };
}

const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('169.254.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('0.0.0.0', 8, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addAddress('::', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

/**
 * True for loopback, private, link-local (cloud metadata) and unspecified addresses. The egress proxy
 * runs on the host, so reaching these would let a sandbox talk to the user's local services.
 */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return PRIVATE.check(mapped[1] as string, 'ipv4');
  return PRIVATE.check(ip, v === 4 ? 'ipv4' : 'ipv6');
}
