import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../src/core/redact.js';

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
});
