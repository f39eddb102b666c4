import { describe, expect, it } from 'vitest';
import { egressAllowed, ruleHeaders } from '../fixtures/e2b/egress.js';
import { listPage, parseNetwork } from '../fixtures/e2b/control.js';
import { protectionOf, sessionNetwork } from '../../src/providers/e2b/network.js';

describe('E2B session network config', () => {
  it('denies everything but the model API host and the allowed hosts (E2B has no ports) and injects the real key for the model API host only', () => {
    const { network, placeholder } = sessionNetwork({ apiUrl: 'https://API.anthropic.com', credential: { kind: 'api-key', value: 'sk-ant-real' }, allowDomains: ['registry.npmjs.org:443', '*.github.com', '[::1]:8080', 'pypi.org'] });
    expect(network.denyOut).toEqual(['0.0.0.0/0']);
    expect(network.allowOut).toEqual(['api.anthropic.com', 'registry.npmjs.org', '*.github.com', '::1', 'pypi.org']);
    expect(network.rules).toEqual({ 'api.anthropic.com': [{ transform: { headers: { 'x-api-key': 'sk-ant-real' } } }] });
    expect(placeholder.value).toMatch(/^sk-ant-pcc-[0-9a-f]{36}$/);
    expect(placeholder.value).not.toContain('real');
  });

  it('carries a bearer credential as Authorization and keeps its kind for the placeholder', () => {
    const { network, placeholder } = sessionNetwork({ apiUrl: 'http://127.0.0.1:8080', credential: { kind: 'bearer', value: 'tok' }, allowDomains: [] });
    expect(network.rules).toEqual({ '127.0.0.1': [{ transform: { headers: { Authorization: 'Bearer tok' } } }] });
    expect(placeholder.kind).toBe('bearer');
  });

  it('reads the protection of a live sandbox from its info', () => {
    expect(protectionOf({ rules: { 'api.anthropic.com': [] } })).toBe('network-rules');
    expect(protectionOf(undefined)).toBe('key-in-sandbox');
    expect(protectionOf({})).toBe('key-in-sandbox');
  });
});

describe('E2B emulator network semantics', () => {
  it('allowOut wins over denyOut; domains and *.wildcards match names, CIDRs match addresses; unresolvable names are closed once anything is denied', () => {
    const cfg = { allowOut: ['api.example.com', '*.github.com', '10.1.0.0/16'], denyOut: ['0.0.0.0/0'] };
    expect(egressAllowed(cfg, 'api.example.com', '1.2.3.4')).toBe(true);
    expect(egressAllowed(cfg, 'x.api.example.com', '1.2.3.4')).toBe(false);
    expect(egressAllowed(cfg, 'raw.github.com', '1.2.3.4')).toBe(true);
    expect(egressAllowed(cfg, 'github.com', '1.2.3.4')).toBe(false); // a wildcard does not match its apex
    expect(egressAllowed(cfg, '10.1.2.3', '10.1.2.3')).toBe(true);
    expect(egressAllowed(cfg, '10.2.0.1', '10.2.0.1')).toBe(false);
    expect(egressAllowed(cfg, 'nowhere.invalid', undefined)).toBe(false);
    expect(egressAllowed({ denyOut: ['8.8.8.8'] }, 'dns.google', '8.8.8.8')).toBe(false);
    expect(egressAllowed({ denyOut: ['8.8.8.8'] }, 'one.one', '1.1.1.1')).toBe(true);
    expect(egressAllowed({}, 'anything', undefined)).toBe(true);
  });

  it('applies the exact rule first, else the longest wildcard; rule sets are not merged', () => {
    const cfg = { rules: { 'api.x.com': [{ transform: { headers: { a: '1' } } }], '*.x.com': [{ transform: { headers: { b: '2' } } }], '*.y.x.com': [{ transform: { headers: { c: '3' } } }] } };
    expect(ruleHeaders(cfg, 'API.x.com')).toEqual({ a: '1' });
    expect(ruleHeaders(cfg, 'z.y.x.com')).toEqual({ c: '3' });
    expect(ruleHeaders(cfg, 'q.x.com')).toEqual({ b: '2' });
    expect(ruleHeaders(cfg, 'x.com')).toEqual({});
  });

  it('validates the network body as the API does', () => {
    expect(parseNetwork({})).toBeUndefined();
    expect(parseNetwork({ allow_internet_access: false })).toEqual({ denyOut: ['0.0.0.0/0'] });
    expect(parseNetwork({ network: { denyOut: ['example.com'] } })).toMatch(/domain names are not supported/);
    expect(parseNetwork({ network: { rules: { '*': [] } } })).toMatch(/invalid network rule host/);
  });

  it('rejects bad list parameters with a 400 message', () => {
    const q = (s: string): URLSearchParams => new URLSearchParams(s);
    expect(listPage([], q('limit=0'))).toMatch(/limit/);
    expect(listPage([], q('limit=-1'))).toMatch(/limit/);
    expect(listPage([], q('state=killed'))).toMatch(/invalid state/);
    expect(listPage([], q('order=up'))).toMatch(/invalid order/);
    expect(listPage([], q('nextToken=garbage'))).toMatch(/next token/i);
    expect(listPage([], q('startedAfter=soon'))).toMatch(/startedAfter/);
    expect(listPage([], q('template=base:v1'))).toMatch(/tags are not supported/);
  });

  it('orders by start time, ties by id the other way; clamps limit to 100; a cursor only continues a listing of its own order', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    const later = new Date('2026-01-01T00:00:01Z');
    const boxes = [
      { sandboxId: 'b', templateId: 'base', state: 'running' as const, metadata: {}, createdAt: t },
      { sandboxId: 'a', templateId: 'base', state: 'paused' as const, metadata: {}, createdAt: t },
      { sandboxId: 'c', templateId: 'base', state: 'running' as const, metadata: {}, createdAt: later },
      ...Array.from({ length: 120 }, (_, i) => ({ sandboxId: `z${String(i).padStart(3, '0')}`, templateId: 'other', state: 'running' as const, metadata: {}, createdAt: t })),
    ];
    const ids = (p: ReturnType<typeof listPage>): string[] => (typeof p === 'string' ? [p] : p.items.map((b) => b.sandboxId));
    expect(ids(listPage(boxes, new URLSearchParams('template=base')))).toEqual(['c', 'a', 'b']);
    expect(ids(listPage(boxes, new URLSearchParams('template=base&order=asc')))).toEqual(['b', 'a', 'c']);
    const first = listPage(boxes, new URLSearchParams('template=base&limit=2'));
    if (typeof first === 'string' || !first.nextToken) throw new Error('expected a next page');
    expect(Buffer.from(first.nextToken, 'base64url').toString()).toBe(`${t.toISOString()}__a`);
    expect(ids(listPage(boxes, new URLSearchParams({ template: 'base', limit: '2', nextToken: first.nextToken })))).toEqual(['b']);
    expect(listPage(boxes, new URLSearchParams({ template: 'base', order: 'asc', nextToken: first.nextToken }))).toBe('Invalid next token');
    expect(ids(listPage(boxes, new URLSearchParams('limit=1000')))).toHaveLength(100);
  });
});
