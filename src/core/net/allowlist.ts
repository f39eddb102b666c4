import { BlockList, isIP } from 'node:net';

/** A compiled domain allowlist: `example.com`, `*.example.com` (subdomains), optional `:port`. */
export interface Allowlist {
  /** 'exact' when the host is named as is, 'wildcard' when only a *.pattern matched, undefined when denied. */
  match(host: string, port: number): 'exact' | 'wildcard' | undefined;
  readonly entries: readonly string[];
}

/** One parsed allowlist entry. */
export interface AllowEntry {
  wildcard: boolean;
  host: string;
  /** The one port allowed; undefined means {@link DEFAULT_PORTS}. */
  port: number | undefined;
}

/** The ports an entry without `:port` allows: HTTPS and HTTP, nothing else on that host. */
export const DEFAULT_PORTS: readonly number[] = [443, 80];

/** Normalises a host for comparison (lower case, no trailing dot, no IPv6 brackets). */
export function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** True for a TCP port a connection can name (1-65535, digits only). */
export function isValidPort(port: string | number): boolean {
  const n = typeof port === 'number' ? port : /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for a DNS host name (labels of letters, digits and inner hyphens; 253 bytes at most) or an IP address. */
export function isValidHost(hostIn: string): boolean {
  const host = normaliseHost(hostIn);
  if (isIP(host) !== 0) return true;
  if (host === '' || host.length > 253) return false;
  return host.split('.').every((l) => LABEL.test(l));
}

/** Parses one entry (`host`, `*.domain`, `host:port`, `[v6]:port`); throws with the reason. */
export function parseAllowEntry(raw: string): AllowEntry {
  const entry = raw.trim();
  if (/[/\s@]/.test(entry)) throw new Error(`invalid allowlist entry "${raw}": give a host name (example.com, *.example.com or host:port), not a URL`);
  const m = /^(\*\.)?(\[[^\]]*\]|[^:[\]]*)(?::([^:]*))?$/.exec(entry);
  if (!m) throw new Error(`invalid allowlist entry "${raw}" (expected host, *.domain or host:port, e.g. example.com:8443)`);
  const [, star, hostPart = '', portPart] = m;
  const bracketed = hostPart.startsWith('[');
  if (bracketed ? isIP(hostPart.slice(1, -1)) !== 6 : !isValidHost(hostPart) || isIP(hostPart) === 6)
    throw new Error(`invalid allowlist entry "${raw}": "${hostPart}" is not a host name or IP address (expected host, *.domain or host:port)`);
  if (star && isIP(normaliseHost(hostPart)) !== 0) throw new Error(`invalid allowlist entry "${raw}": a wildcard needs a domain name, not an IP address`);
  if (portPart !== undefined && !isValidPort(portPart)) throw new Error(`invalid allowlist entry "${raw}": port "${portPart}" is not a number from 1 to 65535`);
  return { wildcard: star !== undefined, host: normaliseHost(hostPart), port: portPart === undefined ? undefined : Number(portPart) };
}

/**
 * Compiles allowlist entries; invalid entries throw with the entry named. The port rule: an entry
 * with `:port` allows exactly that port; an entry without one allows {@link DEFAULT_PORTS} only, so
 * naming a host never opens every service on it.
 */
export function compileAllowlist(entries: readonly string[]): Allowlist {
  const rules = entries.map(parseAllowEntry);
  return {
    entries,
    match(hostIn, port) {
      const host = normaliseHost(hostIn);
      let best: 'exact' | 'wildcard' | undefined;
      for (const r of rules) {
        if (r.port !== undefined ? r.port !== port : !DEFAULT_PORTS.includes(port)) continue;
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
