/**
 * Terminal safety for text that came out of a sandbox (agent text, tool output, file names, commit
 * subjects, error messages quoting them). A terminal obeys control characters: ESC starts sequences
 * that write the clipboard (OSC 52), set the title, move the cursor or erase the screen; BEL, CR and
 * backspace rewrite what the user sees; bidi overrides reorder it. So every such character is shown as
 * visible text instead:
 *
 * - C0 controls except newline and tab, in caret notation as `cat -v` and `less` show them:
 *   ESC → `^[`, BEL → `^G`, CR → `^M`, NUL → `^@`; DEL → `^?`.
 * - C1 controls (U+0080–U+009F, e.g. the one-character CSI U+009B) and the Unicode bidi
 *   embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069) as `<U+XXXX>`.
 *
 * The result contains no control character but newline and tab, so applying it twice changes nothing.
 */

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// In JSON text, C0 controls are already escaped by JSON.stringify; the others are not.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_IN_JSON = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** Replaces every control character (except `\n` and `\t`), DEL, C1 and bidi control with visible text. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    if (n < 0x20) return `^${String.fromCharCode(n + 0x40)}`;
    if (n === 0x7f) return '^?';
    return `<U+${hex4(n)}>`;
  });
}

/** True when the text holds a character {@link escapeControls} would replace. */
export function hasControls(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s);
}

/**
 * Makes JSON text safe on a terminal without changing what it means: the characters JSON.stringify
 * leaves raw (DEL, C1, bidi controls) become `\uXXXX` escapes, so parsing gives the exact same string.
 * Only valid for JSON text, where these characters can only appear inside strings.
 */
export function escapeJsonControls(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${hex4(c.charCodeAt(0)).toLowerCase()}`);
}
