import { describe, expect, it } from 'vitest';
import { compileAllowlist, isPrivateAddress } from '../../src/core/net/allowlist.js';

describe('allowlist', () => {
  const a = compileAllowlist(['api.anthropic.com', '*.npmjs.org', 'localhost:8080']);
  it('matches exact hosts, wildcard subdomains and ports', () => {
    expect(a.match('API.anthropic.com.', 443)).toBe('exact');
    expect(a.match('registry.npmjs.org', 443)).toBe('wildcard');
    expect(a.match('npmjs.org', 443)).toBeUndefined();
    expect(a.match('evilnpmjs.org', 443)).toBeUndefined();
    expect(a.match('localhost', 8080)).toBe('exact');
    expect(a.match('localhost', 22)).toBeUndefined();
    expect(a.match('example.com', 443)).toBeUndefined();
  });
  it('rejects malformed entries with the entry named', () => {
    expect(() => compileAllowlist(['http://x.com/'])).toThrow(/http:\/\/x.com\//);
  });
  it('knows private and loopback addresses', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', '::ffff:127.0.0.1', 'fd00::1']) expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of ['8.8.8.8', '2606:4700::1111']) expect(isPrivateAddress(ip), ip).toBe(false);
  });
});
