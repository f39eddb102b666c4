import { describe, expect, it } from 'vitest';
import { parseClaudeLine } from '../../src/agents/claude/claude.js';
import { Renderer } from '../../src/cli/render.js';
import { resultAuthFailure, retryVerdict, UNREACHABLE_ATTEMPTS } from '../../src/core/api-errors.js';

// Lines exactly as claude 2.1 prints them (captured against a closed port and a server answering 401).
const CLOSED = '{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":571,"error_status":null,"error":"unknown","session_id":"c","uuid":"u"}';
const REFUSED = '{"type":"system","subtype":"api_retry","attempt":2,"max_retries":10,"retry_delay_ms":1136,"error_status":401,"error":"authentication_failed","session_id":"s","uuid":"u"}';

const sink = (): { write(s: string): void; text: string } => {
  const o = { text: '', write: (s: string): void => void (o.text += s) };
  return o;
};

describe('api_retry events', () => {
  it('parses claude\'s system/api_retry lines', () => {
    expect(parseClaudeLine(CLOSED)).toEqual([{ type: 'api_retry', attempt: 1, maxRetries: 10, delayMs: 571, status: null, error: 'unknown' }]);
    expect(parseClaudeLine(REFUSED)).toEqual([{ type: 'api_retry', attempt: 2, maxRetries: 10, delayMs: 1136, status: 401, error: 'authentication_failed' }]);
  });

  it('renders status, attempt and wait on stderr, and as one JSON line with --json', () => {
    const [ev] = parseClaudeLine(REFUSED);
    const out = sink();
    const err = sink();
    new Renderer({ json: false, stdout: out, stderr: err, env: {} }).event({ ...ev!, ts: 't' });
    expect(out.text).toBe('');
    expect(err.text).toBe('  ⟳ model API answered 401 (authentication_failed); retry 2/10 in 1.1s\n');
    const json = sink();
    new Renderer({ json: true, stdout: json, stderr: sink(), env: {} }).event({ ...ev!, ts: 't' });
    expect(JSON.parse(json.text)).toMatchObject({ type: 'api_retry', status: 401, attempt: 2, delayMs: 1136 });
  });

  it('stops at once on 401/403, after a streak of no-answers, never on 5xx/529', () => {
    const ev = (status: number | null): Parameters<typeof retryVerdict>[0] => ({ type: 'api_retry', attempt: 1, status });
    expect(retryVerdict(ev(401), 0)?.message).toBe('the model API rejected the key (401)');
    expect(retryVerdict(ev(403), 0)?.hint).toMatch(/ANTHROPIC_API_KEY/);
    expect(retryVerdict(ev(500), 9)).toBeUndefined();
    expect(retryVerdict(ev(529), 9)).toBeUndefined();
    expect(retryVerdict(ev(null), UNREACHABLE_ATTEMPTS - 1)).toBeUndefined();
    expect(retryVerdict({ ...ev(null), error: 'api.example:443: getaddrinfo ENOTFOUND' }, UNREACHABLE_ATTEMPTS)?.message).toMatch(/unreachable \(api\.example:443: getaddrinfo ENOTFOUND\)/);
  });

  it('names the auth failure claude reports as its result (403 is not retried)', () => {
    expect(resultAuthFailure('Failed to authenticate. API Error: 403 probe 403')?.message).toBe('the model API rejected the key (403)');
    expect(resultAuthFailure('some other error')).toBeUndefined();
  });
});
