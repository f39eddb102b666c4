/**
 * A use case's warnings (a billed sandbox that `kill`, `cleanup` or `reattach` could not destroy)
 * reach the user in both output modes: on stderr, while --json stdout stays one document that also
 * carries them (the MCP server returns that same document).
 */
import { describe, expect, it } from 'vitest';
import { act } from '../../src/cli/ops-program.js';
import type { Context } from '../../src/core/context.js';

function ctxWith(): { ctx: Context; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const ctx: Context = {
    cwd: '/',
    env: { NO_COLOR: '1' },
    home: '/nonexistent',
    now: () => new Date(),
    stdout: { write: (s: string | Uint8Array) => ((out += String(s)), true) },
    stderr: { write: (s: string | Uint8Array) => ((err += String(s)), true) },
    signal: new AbortController().signal,
  };
  return { ctx, out: () => out, err: () => err };
}

const WARNING = 'could not destroy e2b sandbox sbx-1 (503): it may still be running and billed; remove it with `parallel-cc cleanup`';

describe('use-case warnings in the CLI', () => {
  it.each([true, false])('json=%s: each warning is printed on stderr; stdout is the data only', async (json) => {
    const t = ctxWith();
    let code = -1;
    const value = { sessionId: 'abc', status: 'killed', warnings: [WARNING] };
    await act<{ json?: boolean }>(t.ctx, (c) => (code = c), () => Promise.resolve({ value, warnings: value.warnings, human: () => ['Session abc KILLED'] }))({ json });
    expect(code).toBe(0);
    expect(t.err()).toBe(`warning: ${WARNING}\n`);
    if (json) expect(JSON.parse(t.out())).toEqual(value);
    else expect(t.out()).toBe('Session abc KILLED\n');
  });

  it('no warnings: stderr stays empty', async () => {
    const t = ctxWith();
    await act<{ json?: boolean }>(t.ctx, () => undefined, () => Promise.resolve({ value: { ok: true }, human: () => ['ok'] }))({ json: true });
    expect(t.err()).toBe('');
  });
});
