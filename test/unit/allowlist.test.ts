import { describe, expect, it } from 'vitest';
import { compileAllowlist, isPrivateAddress, parseAllowEntry } from '../../src/core/net/allowlist.js';
import type { AppError } from '../../src/errors.js';
import { checkRunAllowlist, modelApiEntry } from '../../src/core/net/session-net.js';

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
  it('an entry without a port allows 443 and 80 only; host:port exactly that port', () => {
    expect(a.match('api.anthropic.com', 80)).toBe('exact');
    for (const port of [22, 8080, 3000, 5432, 1, 65535]) expect(a.match('api.anthropic.com', port), String(port)).toBeUndefined();
    expect(a.match('registry.npmjs.org', 80)).toBe('wildcard');
    expect(a.match('registry.npmjs.org', 8443)).toBeUndefined();
    for (const port of [443, 80, 8081]) expect(a.match('localhost', port), String(port)).toBeUndefined();
    const v6 = compileAllowlist(['[::1]:4000']);
    expect(v6.match('[::1]', 4000)).toBe('exact');
    expect(v6.match('::1', 4001)).toBeUndefined();
  });
  it('the model API is allowed on its exact host:port, by URL port or scheme default', () => {
    expect(modelApiEntry('http://127.0.0.1:4000/v1')).toBe('127.0.0.1:4000');
    expect(modelApiEntry('https://api.anthropic.com')).toBe('api.anthropic.com:443');
    expect(modelApiEntry('http://gateway.local')).toBe('gateway.local:80');
    expect(modelApiEntry('http://[::1]:9000')).toBe('[::1]:9000');
    const local = compileAllowlist([modelApiEntry('http://127.0.0.1:4000')]);
    expect(local.match('127.0.0.1', 4000)).toBe('exact');
    for (const port of [80, 443, 22, 3000, 4001]) expect(local.match('127.0.0.1', port), String(port)).toBeUndefined();
  });
  it('rejects malformed entries with the entry named', () => {
    expect(() => compileAllowlist(['http://x.com/'])).toThrow(/http:\/\/x.com\/.*not a URL/);
    for (const bad of ['bad..host', '-x.com', 'x-.com', 'a b.com', '', '*.', '*.1.2.3.4', 'x.com:', 'x.com:abc', 'x:y:z', '[zz]:80', `${'a'.repeat(64)}.com`, 'user@x.com'])
      expect(() => parseAllowEntry(bad), bad).toThrow(/invalid allowlist entry/);
    for (const bad of ['example.com:99999', 'example.com:0', 'example.com:65536', '[::1]:70000'])
      expect(() => parseAllowEntry(bad), bad).toThrow(/port ".*" is not a number from 1 to 65535/);
    expect(parseAllowEntry('Example.COM.:65535')).toEqual({ wildcard: false, host: 'example.com', port: 65535 });
    expect(parseAllowEntry('*.example.com')).toEqual({ wildcard: true, host: 'example.com', port: undefined });
  });
  it('checkRunAllowlist names where a bad entry came from, as a usage error (exit 2)', () => {
    const thrown = (f: () => void): AppError | undefined => {
      try {
        f();
      } catch (e) {
        return e as AppError;
      }
      return undefined;
    };
    const flag = thrown(() => checkRunAllowlist([], ['ok.com', 'bad..host']));
    expect(flag?.kind).toBe('usage');
    expect(flag?.message).toMatch(/^--allow-domain: .*bad\.\.host/);
    const conf = thrown(() => checkRunAllowlist(['x.com:99999']));
    expect(conf?.exitCode).toBe(2);
    expect(conf?.message).toMatch(/^providers\.native\.allowedDomains.*99999/);
    expect(() => checkRunAllowlist(['x.com'], ['*.y.org', 'z.net:8443'])).not.toThrow();
  });
  it('knows private and loopback addresses', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', '::ffff:127.0.0.1', 'fd00::1']) expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of ['8.8.8.8', '2606:4700::1111']) expect(isPrivateAddress(ip), ip).toBe(false);
  });
});
