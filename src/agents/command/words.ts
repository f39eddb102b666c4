import { AppError } from '../../errors.js';

/**
 * Splits a command line into words once, the way a POSIX shell would quote them, without a shell:
 * whitespace separates words; '…' is literal; "…" is literal except \\ \" \$ \` escapes; a
 * backslash outside quotes escapes the next character. No expansion of any kind ($, *, ~, ;, |
 * are plain characters). An unterminated quote is a usage error.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw unterminated(line, "'");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const d = line[j] ?? '';
        const next = line[j + 1];
        if (d === '\\' && next !== undefined && '\\"$`'.includes(next)) {
          word += next;
          j += 1;
        } else word += d;
      }
      if (j >= line.length) throw unterminated(line, '"');
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw unterminated(line, '\\');
      word += line[i + 1] ?? '';
      inWord = true;
      i += 1;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function unterminated(line: string, what: string): AppError {
  return new AppError('usage', `--agent-command ${JSON.stringify(line)} ends inside ${what === '\\' ? 'an escape (a trailing backslash)' : `a ${what}…${what} quote`}`, {
    hint: 'Close the quote; the command line is split into words like a shell would, but never run by one.',
  });
}
