import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../src/core/redact.js';
import { privateDepSecrets } from '../../src/core/private-deps.js';

describe('Redactor', () => {
  const key = 'sk-ant-api03-' + 'A'.repeat(40);
  const r = Redactor.fromEnv({ ANTHROPIC_API_KEY: key, E2B_API_KEY: 'plainvalue-not-shaped-1234' });

  it('removes exact secret values and common token shapes from text', () => {
    expect(r.text(`key=${key}!`)).toBe(`key=${REDACTED}!`);
    expect(r.text('uses plainvalue-not-shaped-1234 here')).toBe(`uses ${REDACTED} here`);
    expect(r.text('Authorization: Bearer abcdefghijklmnop.qrs')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(r.text('curl -H "x-api-key: sk-ant-other-123456789"')).not.toContain('sk-ant-other');
    expect(r.text('token ghp_' + 'x'.repeat(36) + ' and AKIAABCDEFGHIJKLMNOP')).toBe(`token ${REDACTED} and ${REDACTED}`);
    expect(r.text('e2b_' + '0'.repeat(40))).toBe(REDACTED);
  });

  it('leaves ordinary text alone and redacts nested values', () => {
    expect(r.text('hello world; api docs at /v1/messages; short=abc')).toBe('hello world; api docs at /v1/messages; short=abc');
    const v = r.value({ type: 'tool_result', content: `env: ANTHROPIC_API_KEY=${key}`, n: 3, list: [key] });
    expect(JSON.stringify(v)).not.toContain(key);
    expect(v.n).toBe(3);
  });

  it('ignores values too short to be secrets', () => {
    expect(new Redactor(['abc', undefined]).text('abc abc')).toBe('abc abc');
  });

  it('removes the codex and gemini agents\' keys: their variables\' values and the OpenAI/Google key shapes', () => {
    const own = Redactor.fromEnv({ OPENAI_API_KEY: 'openai-plain-value-12345', GEMINI_API_KEY: 'gemini-plain-value-12345' });
    expect(own.text('a openai-plain-value-12345 b gemini-plain-value-12345')).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(r.text(`OPENAI_API_KEY=sk-proj-${'a1'.repeat(20)}`)).not.toContain('sk-proj-');
    expect(r.text(`key AIza${'B'.repeat(35)} end`)).toBe(`key ${REDACTED} end`);
    expect(r.text('x-goog-api-key: some-google-key-123')).toBe(`x-goog-api-key: ${REDACTED}`);
    expect(r.text('sk-short and skin-deep')).toBe('sk-short and skin-deep');
  });

  it('removes the private-dependency secrets: PARALLEL_CC_NPM_TOKEN, npm token shapes, --github-token and its Basic form', () => {
    const npm = `npm_${'a1'.repeat(18)}`;
    expect(Redactor.fromEnv({}).text(`//registry/:_authToken=${npm}`)).not.toContain(npm);
    expect(Redactor.fromEnv({ PARALLEL_CC_NPM_TOKEN: 'custom-registry-token-1' }).text('t=custom-registry-token-1')).toBe(`t=${REDACTED}`);
    const gh = 'plain-github-token-value-1';
    const basic = Buffer.from(`x-access-token:${gh}`).toString('base64');
    const red = Redactor.fromEnv({}, privateDepSecrets({ github: { url: 'https://github.com', token: gh }, npm: { registry: 'https://r/', token: 'plain-npm-token-value-1' } }));
    expect(red.text(`${gh} ${basic} plain-npm-token-value-1`)).toBe(`${REDACTED} ${REDACTED} ${REDACTED}`);
  });
});
