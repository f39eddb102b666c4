/**
 * Quoting for vendors whose command API takes one shell string (E2B runs `bash -l -c <string>`):
 * the argv of a command is quoted here, once, at the boundary, so each element becomes one shell
 * word whatever it contains. Nothing else in parallel-cc builds shell strings from data.
 */

/** One argv element as one POSIX shell word (single quotes, `'` spelled `'"'"'`). */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** Joins an argv into one safely quoted shell command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
