/**
 * The broker's usage tap: it reads each answer's usage from the bytes as they pass, whatever way
 * the stream is cut (every byte boundary, inside a multi-byte character, CRLF or LF framing), for
 * the three APIs the agents speak, streamed or not.
 */
import { describe, expect, it } from 'vitest';
import { requestModel, UsageTap } from '../../src/core/net/usage-meter.js';

const ev = (event: string, data: unknown, nl = '\n'): string => `event: ${event}${nl}data: ${JSON.stringify(data)}${nl}${nl}`;

/** An Anthropic Messages stream as the API sends it (output_tokens in message_delta is cumulative). */
const ANTHROPIC = [
  ev('message_start', { type: 'message_start', message: { id: 'msg_1', model: 'claude-sonnet-4-5', usage: { input_tokens: 1234, output_tokens: 1, cache_read_input_tokens: 50, cache_creation_input_tokens: 7 } } }),
  ev('ping', { type: 'ping' }),
  ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo wörld — ✓ 日本' } }),
  ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } }),
  ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 42 } }),
  ev('message_stop', { type: 'message_stop' }),
].join('');

/** Feeds `text` cut at `at` (bytes) and returns what the tap read. */
function tapSplit(text: string, at: number[], contentType = 'text/event-stream', model?: string): ReturnType<UsageTap['end']> {
  const bytes = Buffer.from(text, 'utf8');
  const tap = new UsageTap(contentType, model);
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    tap.push(bytes.subarray(from, cut));
    from = cut;
  }
  return tap.end();
}

describe('UsageTap', () => {
  it('reads an Anthropic SSE stream the same when it is cut at any byte boundary', () => {
    const want = { model: 'claude-sonnet-4-5', usage: { inputTokens: 1234, outputTokens: 42, cacheReadTokens: 50, cacheCreationTokens: 7 } };
    const len = Buffer.byteLength(ANTHROPIC);
    expect(tapSplit(ANTHROPIC, [])).toEqual(want);
    for (let i = 1; i < len; i++) expect(tapSplit(ANTHROPIC, [i]), `cut at byte ${i}`).toEqual(want);
    // And byte by byte.
    expect(tapSplit(ANTHROPIC, Array.from({ length: len - 1 }, (_, i) => i + 1))).toEqual(want);
  });

  it('reads CRLF framing and data lines without a space', () => {
    const crlf = ANTHROPIC.replaceAll('\n', '\r\n').replaceAll('data: ', 'data:');
    const len = Buffer.byteLength(crlf);
    for (let i = 1; i < len; i += 7) expect(tapSplit(crlf, [i])?.usage.outputTokens).toBe(42);
  });

  it('reads OpenAI Responses (cached input priced apart) and Gemini streams at every cut', () => {
    const openai = [
      ev('response.created', { type: 'response.created', response: { id: 'r1' } }),
      ev('response.output_text.delta', { type: 'response.output_text.delta', delta: 'ok' }),
      ev('response.completed', { type: 'response.completed', response: { id: 'r1', model: 'gpt-5.1-codex', usage: { input_tokens: 900, input_tokens_details: { cached_tokens: 300 }, output_tokens: 80 } } }),
    ].join('');
    const gemini = [
      `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }] } }], usageMetadata: { promptTokenCount: 500, candidatesTokenCount: 3 }, modelVersion: 'gemini-2.5-pro' })}\r\n\r\n`,
      `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'b' }] } }], usageMetadata: { promptTokenCount: 500, candidatesTokenCount: 20, cachedContentTokenCount: 100, thoughtsTokenCount: 5 }, modelVersion: 'gemini-2.5-pro' })}\r\n\r\n`,
    ].join('');
    for (let i = 1; i < Buffer.byteLength(openai); i++) expect(tapSplit(openai, [i]), `openai cut ${i}`).toEqual({ model: 'gpt-5.1-codex', usage: { inputTokens: 600, outputTokens: 80, cacheReadTokens: 300, cacheCreationTokens: 0 } });
    for (let i = 1; i < Buffer.byteLength(gemini); i++) expect(tapSplit(gemini, [i]), `gemini cut ${i}`).toEqual({ model: 'gemini-2.5-pro', usage: { inputTokens: 400, outputTokens: 25, cacheReadTokens: 100, cacheCreationTokens: 0 } });
  });

  it('reads non-streamed JSON answers, cut anywhere, and falls back to the requested model', () => {
    const message = JSON.stringify({ type: 'message', id: 'm', model: 'claude-haiku-4-5', usage: { input_tokens: 10, output_tokens: 4 } });
    for (let i = 1; i < message.length; i++) expect(tapSplit(message, [i], 'application/json')).toEqual({ model: 'claude-haiku-4-5', usage: { inputTokens: 10, outputTokens: 4, cacheReadTokens: 0, cacheCreationTokens: 0 } });
    const response = JSON.stringify({ object: 'response', usage: { input_tokens: 7, output_tokens: 2 } });
    expect(tapSplit(response, [3], 'application/json', 'gpt-5-mini')).toEqual({ model: 'gpt-5-mini', usage: { inputTokens: 7, outputTokens: 2, cacheReadTokens: 0, cacheCreationTokens: 0 } });
    const gemini = JSON.stringify({ usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1 } });
    expect(tapSplit(gemini, [], 'application/json', 'gemini-2.5-flash')?.model).toBe('gemini-2.5-flash');
  });

  it('reports nothing for answers without usage: errors, HTML, an empty body', () => {
    expect(tapSplit('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}', [5], 'application/json')).toBeUndefined();
    expect(tapSplit('<html>bad gateway</html>', [], 'text/html')).toBeUndefined();
    expect(tapSplit('', [], 'application/json')).toBeUndefined();
    expect(tapSplit(ev('error', { type: 'error', error: { type: 'overloaded_error' } }), [10])).toBeUndefined();
  });

  it('a stream cut mid-way reports the usage read before the cut', () => {
    const cut = ANTHROPIC.slice(0, ANTHROPIC.indexOf('event: message_delta'));
    expect(tapSplit(cut, [17])?.usage).toEqual({ inputTokens: 1234, outputTokens: 1, cacheReadTokens: 50, cacheCreationTokens: 7 });
  });
});

describe('requestModel', () => {
  it('takes the JSON body\'s model, or Gemini\'s path segment', () => {
    expect(requestModel('/v1/messages', Buffer.from('{"model":"claude-opus-4-5","messages":[]}'))).toBe('claude-opus-4-5');
    expect(requestModel('/v1beta/models/gemini-2.5-flash:streamGenerateContent', Buffer.from('{}'))).toBe('gemini-2.5-flash');
    expect(requestModel('/v1/messages', Buffer.from('not json'))).toBeUndefined();
  });

  it('never throws on a sandbox\'s malformed escape in the path (it would crash the broker\'s host process)', () => {
    expect(requestModel('/v1beta/models/%zz:generateContent', undefined)).toBe('%zz');
    expect(requestModel('/v1beta/models/gemini%2D2.5:generateContent', undefined)).toBe('gemini-2.5');
  });
});
