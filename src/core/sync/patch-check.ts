import { posix } from 'node:path';

/** A problem found in a result patch series. */
export interface PatchProblem {
  path: string;
  problem: string;
}

/** What a validated patch series contains. */
export interface PatchSummary {
  commits: number;
  files: string[];
  problems: PatchProblem[];
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Reads a C-quoted git path starting at `s[0] === '"'`; returns the path and the rest of the string. */
export function unquoteGitPath(s: string): { path: string; rest: string } | undefined {
  const bytes: number[] = [];
  let i = 1;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '"') return { path: Buffer.from(bytes).toString('utf8'), rest: s.slice(i + 1) };
    if (c === '\\') {
      const n = s[i + 1] ?? '';
      if (/[0-7]/.test(n)) {
        bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
        i += 4;
        continue;
      }
      const code = C_ESCAPES[n];
      if (code === undefined) return undefined;
      bytes.push(code);
      i += 2;
      continue;
    }
    bytes.push(...Buffer.from(c, 'utf8'));
    i += 1;
  }
  return undefined;
}

/** Parses a path token as git writes it (quoted or not), removing the given prefix (a/ or b/). */
function headerPath(raw: string, prefix?: string): string | undefined {
  let p = raw.replace(/\t$/, '');
  if (p.startsWith('"')) p = unquoteGitPath(p)?.path ?? p;
  if (prefix && p.startsWith(prefix)) p = p.slice(prefix.length);
  return p;
}

/** Paths named on a `diff --git a/X b/Y` line. Renames are also read from `rename from/to`. */
function diffGitPaths(rest: string): string[] {
  if (rest.startsWith('"')) {
    const first = unquoteGitPath(rest);
    if (!first) return [rest];
    return [first.path, headerPath(first.rest.trimStart())].filter((p): p is string => p !== undefined).map(stripPrefix);
  }
  const quotedB = rest.indexOf(' "b/');
  if (quotedB > 0) return [rest.slice(0, quotedB), headerPath(rest.slice(quotedB + 1)) ?? ''].map(stripPrefix);
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ' && rest.slice(2, half) === rest.slice(half + 3)) return [rest.slice(2, half)];
  return []; // different names with spaces: the rename/copy lines that follow name them unambiguously
}

function stripPrefix(p: string): string {
  return p.startsWith('a/') || p.startsWith('b/') ? p.slice(2) : p;
}

/** Why a repository-relative path must not be written, or undefined when it is fine. */
export function pathProblem(p: string): string | undefined {
  if (p === '' || p.includes('\0')) return 'empty or NUL path';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'absolute path';
  const parts = p.split(/[\\/]/);
  if (parts.includes('..')) return 'path escapes the repository (..)';
  if (parts.some((c) => c.toLowerCase().replace(/[. ]+$/, '') === '.git')) return 'path inside .git';
  return undefined;
}

/** Why a symlink at `path` with `target` is unsafe (absolute, or pointing outside the repo). */
export function symlinkProblem(path: string, target: string): string | undefined {
  if (target.startsWith('/')) return `symlink to an absolute path (${target})`;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) return `symlink pointing outside the repository (${target})`;
  if (pathProblem(resolved) !== undefined && resolved !== '.') return `symlink to ${target}: ${pathProblem(resolved) ?? ''}`;
  return undefined;
}

const COMMIT_LINE = /^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$/;
const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * Validates a `git format-patch --pretty=mboxrd` series before anything touches the host: every
 * path it writes, renames or copies must stay inside the repository and outside .git, no symlink
 * may point out, and no submodule entries are accepted. Hunk bodies are skipped by their line
 * counts, so file content that looks like a header is not mistaken for one.
 */
export function checkPatchSeries(mbox: string): PatchSummary {
  const lines = mbox.split('\n');
  const files = new Set<string>();
  const problems: PatchProblem[] = [];
  let commits = 0;
  let current: string | undefined;
  let symlink = false;
  let symlinkTarget: string[] = [];
  const note = (path: string | undefined): void => {
    if (path === undefined || path === '/dev/null') return;
    files.add(path);
    const problem = pathProblem(path);
    if (problem) problems.push({ path, problem });
  };
  const finishFile = (): void => {
    if (current !== undefined && symlink) {
      const problem = symlinkProblem(current, symlinkTarget.join('\n'));
      if (problem) problems.push({ path: current, problem });
    }
    symlink = false;
    symlinkTarget = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (COMMIT_LINE.test(line)) {
      finishFile();
      commits += 1;
      current = undefined;
      continue;
    }
    if (line.startsWith('diff --git ')) {
      finishFile();
      const paths = diffGitPaths(line.slice('diff --git '.length));
      paths.forEach(note);
      current = paths[paths.length - 1];
      continue;
    }
    const rename = /^(?:rename|copy) (?:from|to) (.*)$/.exec(line);
    if (rename) {
      const p = headerPath(rename[1] as string);
      note(p);
      if (line.includes(' to ')) current = p;
      continue;
    }
    const fileLine = /^(?:---|\+\+\+) (.*)$/.exec(line);
    if (fileLine && current !== undefined) {
      const raw = fileLine[1] as string;
      if (raw !== '/dev/null') note(headerPath(raw, line.startsWith('---') ? 'a/' : 'b/'));
      continue;
    }
    const mode = /^(?:new file mode|new mode|deleted file mode|old mode|index [0-9a-f]+\.\.[0-9a-f]+) ?(\d{6})?$/.exec(line);
    if (mode && current !== undefined) {
      if (mode[1] === '160000') problems.push({ path: current, problem: 'submodule entries are not accepted' });
      if (mode[1] === '120000' && !line.startsWith('deleted') && !line.startsWith('old')) symlink = true;
      continue;
    }
    const hunk = HUNK.exec(line);
    if (hunk && current !== undefined) {
      let oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      let newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
        const body = lines[++i] as string;
        if (body.startsWith('\\')) continue;
        if (body.startsWith('+')) {
          newLeft -= 1;
          if (symlink) symlinkTarget.push(body.slice(1));
        } else if (body.startsWith('-')) oldLeft -= 1;
        else {
          oldLeft -= 1;
          newLeft -= 1;
        }
      }
    }
  }
  finishFile();
  return { commits, files: [...files], problems };
}
