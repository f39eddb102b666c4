/* eslint-disable no-control-regex -- these tests are about control characters */
import { describe, expect, it } from 'vitest';
import { safeSink, TerminalStyle } from '../../src/cli/terminal.js';
import { Redactor } from '../../src/core/redact.js';
import { escapeControls, escapeJsonControls, hasControls } from '../../src/core/sanitize.js';

const ESC = '\u001b';
const BEL = '\u0007';
// Every character a terminal acts on: C0 (minus \n, \t), DEL, C1, bidi embeddings/overrides/isolates.
const UNSAFE = [
  ...Array.from({ length: 0x20 }, (_, i) => i).filter((i) => i !== 0x09 && i !== 0x0a),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
].map((c) => String.fromCharCode(c));
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const sink = (isTTY = true): { write(s: string): void; isTTY: boolean; text: string } => {
  const o = { text: '', isTTY, write: (s: string): void => void (o.text += s) };
  return o;
};

describe('escapeControls', () => {
  it('shows ESC, BEL, CR, NUL and DEL in caret notation and keeps newline and tab', () => {
    const osc52 = `${ESC}]52;c;ZWNobyBwd25lZA==${BEL}`;
    expect(escapeControls(osc52)).toBe('^[]52;c;ZWNobyBwd25lZA==^G');
    expect(escapeControls(`${ESC}[2J${ESC}[H`)).toBe('^[[2J^[[H');
    expect(escapeControls(`${ESC}]0;pwned${BEL}`)).toBe('^[]0;pwned^G');
    expect(escapeControls('a\rb\u0000c\u007fd\be')).toBe('a^Mb^@c^?d^He');
    expect(escapeControls('line 1\n\tline 2')).toBe('line 1\n\tline 2');
    expect(escapeControls(`lone ${ESC}`)).toBe('lone ^[');
  });
  it('shows C1 controls and bidi overrides as <U+XXXX>', () => {
    expect(escapeControls('\u009b31m')).toBe('<U+009B>31m');
    expect(escapeControls('abc\u202Edcba\u2066x\u2069')).toBe('abc<U+202E>dcba<U+2066>x<U+2069>');
  });
  it('leaves no raw control character for any unsafe input, and is idempotent', () => {
    for (const c of UNSAFE) {
      const once = escapeControls(`x${c}y`);
      expect(once, JSON.stringify(c)).not.toMatch(RAW_CONTROL);
      expect(escapeControls(once)).toBe(once);
      expect(hasControls(`x${c}y`)).toBe(true);
    }
    expect(escapeControls('plain ✓ ünïcode → 漢字')).toBe('plain ✓ ünïcode → 漢字');
    expect(hasControls('plain\n\t')).toBe(false);
  });
});

describe('escapeJsonControls', () => {
  it('escapes what JSON.stringify leaves raw and parses back to the exact string', () => {
    const hostile = `a${ESC}]52;c;eA==${BEL}\u009b\u007f\u202e\u2066z\r\n`;
    const line = escapeJsonControls(JSON.stringify({ text: hostile }));
    expect(line).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(line) as { text: string }).text).toBe(hostile);
  });
});

describe('TerminalStyle and safeSink', () => {
  it('our colours and cursor moves get through; the same bytes from sandbox text do not', () => {
    const style = new TerminalStyle(true);
    const out = sink();
    const s = safeSink(out, { redactor: new Redactor([]), style, json: false });
    s.write(`${style.paint('31', `agent says ${ESC}[32mgreen${ESC}]0;title${BEL}`)}${style.control('2K')}\n`);
    expect(out.text).toBe(`${ESC}[31magent says ^[[32mgreen^[]0;title^G${ESC}[0m${ESC}[2K\n`);
  });
  it('a token copied from another renderer (another nonce) is not honoured', () => {
    const mine = new TerminalStyle(true);
    const theirs = new TerminalStyle(true);
    const out = sink();
    safeSink(out, { redactor: new Redactor([]), style: mine, json: false }).write(theirs.control('2J'));
    expect(out.text).not.toContain(ESC);
  });
  it('colour off: paint is plain text, control still works (TTY redraws without colour)', () => {
    const style = new TerminalStyle(false);
    expect(style.render(style.paint('31', 'x'))).toBe('x');
    expect(style.render(style.control('1A'))).toBe(`${ESC}[1A`);
  });
  it('redacts before writing, in both modes', () => {
    const key = 'sk-ant-secret-value-123456';
    const human = sink();
    safeSink(human, { redactor: new Redactor([key]), style: new TerminalStyle(false), json: false }).write(`key ${key}\n`);
    expect(human.text).toBe('key [REDACTED]\n');
    const json = sink();
    safeSink(json, { redactor: new Redactor([key]), style: new TerminalStyle(false), json: true }).write(`${JSON.stringify({ k: `${key}\u009b` })}\n`);
    expect(json.text).toBe('{"k":"[REDACTED]\\u009b"}\n');
  });
});
