/* eslint-disable no-control-regex -- these tests are about control characters */
/**
 * Terminal escapes from a sandbox (issue #14 cause 6). The real claude binary against the scripted
 * model server: the assistant's text and a Bash tool's output carry OSC 52 (clipboard write), OSC 0/2
 * (title), CSI (erase screen, cursor moves, colours), BEL, a C1 CSI and a bidi override. On a real
 * TTY (tmux, which honours OSC 52 and titles) they must show as visible text and set nothing; `sandbox
 * logs` must print no raw control byte; `--json` must keep the exact text.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { BIN, parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';
import { startTmux, tmuxReady, type Tmux } from '../helpers/tmux.js';

const ESC = '\u001b';
const BEL = '\u0007';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
/** The assistant's text: every kind of sequence, raw. */
const TEXT = `agent-says ${ESC}]52;c;${b64('clipboard-from-text')}${BEL}${ESC}]0;PWNED-TEXT-TITLE${BEL}${ESC}[2J${ESC}[H${ESC}[31mRED${ESC}[0m${ESC}[3A${BEL} \u009b2J \u202Eevil end`;
/** What the Bash tool prints (printf turns the octal escapes into the raw bytes). */
const TOOL_OUT = `tool-says ${ESC}]52;c;${b64('clipboard-from-tool')}${BEL}${ESC}]2;PWNED-TOOL-TITLE${BEL}${ESC}[2J${ESC}[1;1H${ESC}[32mGREEN${ESC}[0m${BEL}${ESC}[5A done`;
const printfArg = TOOL_OUT.replace(/\u001b/g, '\\033').replace(/\u0007/g, '\\007');
const SCENARIO: Scenario = { steps: [{ text: TEXT, toolUses: [{ name: 'Bash', input: { command: `printf '${printfArg}\\n'` } }] }, { text: `finished ${ESC}]52;c;${b64('again')}${BEL}` }] };

// Raw bytes a hostile sequence needs: BEL, C1 (as UTF-8), OSC (ESC ]), or any ESC that is not one of
// the renderer's own: SGR colours (ESC [ … m) and the live status's column-1/erase-line (ESC [1G, ESC [2K).
const BAD_BYTES = /\u0007|\u009b|\u001b(?!\[[0-9;]*m|\[1G|\[2K)/;

let server: ModelServer | undefined;
const cleanup: Array<() => void> = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const f of cleanup.splice(0)) f();
});

async function setup(): Promise<{ repo: string; home: string; env: NodeJS.ProcessEnv }> {
  server = await startModelServer({ scenario: SCENARIO });
  const repo = makeRepo({ 'README.md': '# t\n' });
  const home = tempDir('pcc-home-');
  cleanup.push(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const env: NodeJS.ProcessEnv = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}` };
  delete env.NO_COLOR;
  return { repo, home, env };
}

// The guard is in the renderer, but the bytes travel through each provider's streams: native always,
// docker where a daemon and the test image exist.
const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe.skipIf(!tmuxReady())('terminal escapes from a sandbox', () => {
  it('tmux (control): the same bytes printed raw do set the clipboard and the title, so the checks below can fail', async () => {
    const t: Tmux = startTmux({ ...process.env });
    cleanup.push(() => t.close());
    t.type(`exec printf '${printfArg}\\n'`);
    await t.waitDead(10_000);
    expect(t.display('#{pane_title}')).toContain('PWNED-TOOL-TITLE');
    expect(t.buffers()).not.toBe('');
  });

  it.each(PROVIDERS)('%s, on a TTY: visible escapes, no raw ESC/BEL reaches the pane, clipboard and title untouched; `sandbox logs` has no raw control byte', async (provider) => {
    const { repo, env } = await setup();
    const t = startTmux({ ...env, TERM: 'tmux-256color' });
    cleanup.push(() => t.close());
    const title = t.display('#{pane_title}');
    t.type(`exec node '${BIN}' sandbox run --repo '${repo}' --prompt 'print things' --timeout 5 --provider ${provider}`);
    await t.waitDead(120_000);
    const screen = t.capture();
    const raw = t.raw().toString('utf8');
    expect(screen, screen).toMatch(/Session +[0-9a-f]{8} COMPLETED/);
    // Shown as text, in caret notation and <U+XXXX>:
    expect(screen).toContain(`agent-says ^[]52;c;${b64('clipboard-from-text')}^G^[]0;PWNED-TEXT-TITLE^G^[[2J^[[H^[[31mRED^[[0m^[[3A^G <U+009B>2J <U+202E>evil end`);
    expect(screen).toContain(`tool-says ^[]52;c;${b64('clipboard-from-tool')}^G^[]2;PWNED-TOOL-TITLE^G^[[2J^[[1;1H^[[32mGREEN^[[0m^G^[[5A done`);
    // The bytes that reached the pane: colours and the spinner's erase only.
    expect(raw).toContain(`${ESC}[`); // colours are on (a TTY), so the check below is not vacuous
    const bad = BAD_BYTES.exec(raw);
    expect(bad, bad ? JSON.stringify(raw.slice(Math.max(0, bad.index - 40), bad.index + 40)) : '').toBeNull();
    expect(raw).not.toMatch(/\u202e/);
    // Nothing was set: no paste buffer from OSC 52, the title is what it was.
    expect(t.buffers()).toBe('');
    expect(t.display('#{pane_title}')).toBe(title);
    expect(t.display('#{pane_title}')).not.toContain('PWNED');

    const id = /Session +([0-9a-f]{8})/.exec(screen)?.[1] ?? '';
    const logs = await runCli(['sandbox', 'logs', '--session-id', id], { env });
    expect(logs.code, logs.stderr).toBe(0);
    for (const text of [logs.stdout, logs.stderr]) expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(logs.stdout).toContain('agent-says ^[]52;c;');
    expect(logs.stdout).toContain('tool-says ^[]52;c;');
  });

  it.each(PROVIDERS)('%s, --json keeps the exact bytes (escaped by JSON), in the run and in `sandbox logs --json`', async (provider) => {
    const { repo, env } = await setup();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'print things', '--json', '--timeout', '5', '--provider', provider], { env });
    expect(r.code, r.stderr).toBe(0);
    // No raw control character in the NDJSON text itself (JSON escapes them; DEL/C1/bidi as \u escapes)…
    expect(r.stdout.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    // …and parsing gives the exact text.
    const events = parseNdjson(r.stdout);
    expect(events.filter((e) => e.type === 'text').map((e) => e.text)).toContain(TEXT);
    const tool = events.find((e) => e.type === 'tool_result');
    expect(String(tool?.content)).toContain(TOOL_OUT);
    const id = String((events.find((e) => e.type === 'summary')?.summary as { sessionId?: string } | undefined)?.sessionId);
    const logs = await runCli(['sandbox', 'logs', '--session-id', id, '--json'], { env });
    expect(logs.code, logs.stderr).toBe(0);
    expect(parseNdjson(logs.stdout).filter((e) => e.type === 'text').map((e) => e.text)).toContain(TEXT);
  });
});
