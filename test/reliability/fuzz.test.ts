/**
 * 200 malformed inputs — flags, config files, prompts (NUL bytes, invalid UTF-8, 10 MB), session ids
 * with `../`, task files — each must give a clear one-line error and a non-zero exit, never a stack
 * trace, and write nothing: no parallel-cc home, no branch, no worktree, the repo untouched. Run
 * in-process through the same `main()` as the binary (fast), plus a sample through the real binary.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/program.js';
import type { Context } from '../../src/core/context.js';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

interface Case {
  name: string;
  args: string[];
  /** Another command than `sandbox run --repo <repo>` (session ids, task files…). */
  cmd?: string[];
  /** Writes files the case needs (config, prompt files) into `dir`. */
  prepare?: (dir: string, repo: string, home: string) => void;
}

/** A deterministic pseudo-random generator, so a failing case can be reproduced by its index. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  const rand = rng(42);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const junk = (): string => Array.from({ length: 1 + Math.floor(rand() * 12) }, () => pick(['a', 'Z', '-', '=', '..', '/', ' ', '✓', '%', '$(', '`', '"', '\\', '9'])).join('');

  // Flags: bad timeouts, providers, auth methods, unknown flags, missing values.
  for (const t of ['0', '-1', '61m', '3601', '60.0001', '90.5', 'abc', '', ' ', 'NaN', 'Infinity', '1e9', '0x10', '--', '1,5']) out.push({ name: `timeout ${JSON.stringify(t)}`, args: ['--prompt', 'x', '--timeout', t] });
  for (const p of ['nope', 'NATIVE', 'native ', '', 'e2b;rm', '../native', 'docker\n']) out.push({ name: `provider ${JSON.stringify(p)}`, args: ['--prompt', 'x', '--provider', p] });
  for (const a of ['password', 'API-KEY', '', 'oauth2', 'api_key']) out.push({ name: `auth ${JSON.stringify(a)}`, args: ['--prompt', 'x', '--auth-method', a] });
  for (const f of ['--bogus', '--prompt=', '-x', '--timeout', '--provider', '--repo', '--prompt-file']) out.push({ name: `flag ${f}`, args: f === '--prompt=' ? [f] : ['--prompt', 'x', f] });
  out.push({ name: 'prompt and prompt-file', args: ['--prompt', 'a', '--prompt-file', 'b'] });
  for (const p of ['', ' ', '\n\n', '\t \r\n']) out.push({ name: `blank prompt ${JSON.stringify(p)}`, args: ['--prompt', p] });
  for (const r of ['/nonexistent/repo', '/etc', '../../../../../../tmp/../nonexistent']) out.push({ name: `repo ${r}`, args: ['--prompt', 'x', '--repo', r] });
  for (const b of ['no-such-ref', 'HEAD~99', '../../etc/passwd', '-rf', 'refs/heads/..']) out.push({ name: `base ${b}`, args: ['--prompt', 'x', '--base', b, '--dry-run'] });

  // Prompt files: NUL bytes, invalid UTF-8, 10 MB, a directory, missing.
  const promptFiles: Array<[string, Buffer | 'dir']> = [
    ['nul', Buffer.from('before\0after')],
    ['latin1', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])],
    ['overlong', Buffer.from([0xc0, 0xaf])],
    ['lone-surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ['truncated', Buffer.from([0xe2, 0x9c])],
    ['ten-mb', Buffer.alloc(10 * 1024 * 1024, 0x61)],
    ['empty', Buffer.alloc(0)],
    ['dir', 'dir'],
  ];
  for (const [name, content] of promptFiles) {
    out.push({
      name: `prompt-file ${name}`,
      args: ['--prompt-file', `@DIR/${name}`],
      prepare: (dir) => (content === 'dir' ? mkdirSync(join(dir, name), { recursive: true }) : writeFileSync(join(dir, name), content)),
    });
  }
  out.push({ name: 'prompt-file missing', args: ['--prompt-file', '@DIR/missing.md'] });
  out.push({ name: 'prompt 2 MB via argv', args: ['--prompt', 'p'.repeat(2 * 1024 * 1024)] });

  // Config files: invalid JSON, wrong types, unknown keys, out-of-range values (user and repo level).
  const configs = [
    '{',
    '[]',
    'null',
    '"text"',
    '{"timeoutMinutes": "ten"}',
    '{"timeoutMinutes": 0}',
    '{"timeoutMinutes": 1000}',
    '{"defaultProvider": "moon"}',
    '{"unknownKey": 1}',
    '{"providers": {"docker": {"memoryLimit": "lots"}}}',
    '{"providers": {"native": {"allowedDomains": "example.com"}}}',
    '{"providers": {"native": {"pidsLimit": -5}}}',
    '{"anthropicBaseUrl": "not a url"}',
    '{"logLevel": "loud"}',
    '\u0000{}',
  ];
  configs.forEach((text, i) => {
    out.push({ name: `user config #${i}`, args: ['--prompt', 'x', '--dry-run'], prepare: (_d, _r, home) => (mkdirSync(home, { recursive: true }), writeFileSync(join(home, 'sandbox.json'), text)) });
    out.push({ name: `repo config #${i}`, args: ['--prompt', 'x', '--dry-run'], prepare: (_d, repo) => writeFileSync(join(repo, '.parallel-cc.json'), text) });
  });
  for (const [k, v] of [
    ['PARALLEL_CC_SANDBOX_TIMEOUT', 'soon'],
    ['PARALLEL_CC_SANDBOX_PROVIDER', 'moon'],
    ['PARALLEL_CC_DOCKER_MEMORY_LIMIT', 'lots'],
    ['PARALLEL_CC_LOG_LEVEL', 'shout'],
    ['PARALLEL_CC_NATIVE_PIDS_LIMIT', 'many'],
  ] as const) {
    out.push({ name: `env ${k}=${v}`, args: ['--prompt', 'x', '--dry-run', `@ENV:${k}=${v}`] });
  }

  // Session ids that are paths, globs or injections, for every command that takes one.
  for (const verb of ['logs', 'download', 'kill', 'health']) {
    for (const id of ['../../etc/passwd', '..', '/etc', '*', '$(id)', 'DEADBEEF', 'abc', '0123456789abcdef0', '', 'a b']) {
      out.push({ name: `${verb} --session-id ${JSON.stringify(id)}`, args: [], cmd: ['sandbox', verb, '--session-id', id] });
    }
  }

  // Random junk for every value-taking flag until the table holds 200 cases.
  const valueFlags = ['--timeout', '--provider', '--auth-method', '--repo', '--base'];
  while (out.length < 200) {
    const flag = pick(valueFlags);
    // Junk that can never be valid for the flag (a digit alone would be a fine --timeout).
    const value = `${flag === '--timeout' ? 'x' : ''}${junk()}${flag === '--repo' ? '/nope' : ''}`;
    out.push({ name: `random ${flag} ${JSON.stringify(value)}`, args: ['--prompt', 'x', flag, value, ...(flag === '--base' ? ['--dry-run'] : [])] });
  }
  return out.slice(0, 200);
}

function bufferSink(): { write: (s: string) => boolean; text: () => string } {
  let buf = '';
  return { write: (s: string) => ((buf += s), true), text: () => buf };
}

describe('malformed input', () => {
  const all = cases();

  it('has 200 cases', () => {
    expect(all).toHaveLength(200);
  });

  it('each gives a clear error, a non-zero exit, no stack trace, and writes nothing', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const branchesBefore = git(repo, 'branch', '--list');
    const failures: string[] = [];
    for (const [i, c] of all.entries()) {
      const dir = tempDir('pcc-fuzz-');
      const home = join(dir, 'home');
      // A closed port as the model API: a case that wrongly starts a run fails fast and is reported.
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, PARALLEL_CC_HOME: home, ANTHROPIC_API_KEY: 'sk-ant-fuzz-0000000000', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' };
      c.prepare?.(dir, repo, home);
      const args: string[] = [];
      for (const a of c.args) {
        if (a.startsWith('@ENV:')) {
          const [k, v] = a.slice(5).split('=') as [string, string];
          env[k] = v;
        } else args.push(a.replace('@DIR', dir));
      }
      const stdout = bufferSink();
      const stderr = bufferSink();
      const ctx: Context = { cwd: dir, env, home, now: () => new Date(), stdout, stderr, signal: new AbortController().signal };
      if (process.env.FUZZ_DEBUG) process.stderr.write(`case #${i} ${c.name.slice(0, 80)}\n`);
      const t0 = Date.now();
      const code = await main(c.cmd ?? ['sandbox', 'run', '--repo', repo, ...args], ctx).catch((e: unknown) => {
        failures.push(`#${i} ${c.name}: threw ${String(e)}`);
        return -1;
      });
      const err = stderr.text();
      const problems = [
        code === 0 ? 'exit 0' : '',
        code === 70 ? 'internal error' : '',
        /\n\s+at .+:\d+:\d+/.test(err + stdout.text()) ? 'stack trace' : '',
        /^error: \S/m.test(err) ? '' : `no "error:" line (${JSON.stringify(err.slice(0, 120))})`,
        existsSync(join(home, 'coordinator.db')) ? 'registry created' : '',
        existsSync(join(home, 'worktrees')) ? 'worktree folder created' : '',
        Date.now() - t0 > 5000 ? `slow (${Date.now() - t0} ms)` : '',
      ].filter(Boolean);
      if (problems.length) failures.push(`#${i} ${c.name}: ${problems.join(', ')}`);
      rmSync(join(repo, '.parallel-cc.json'), { force: true });
    }
    expect(failures).toEqual([]);
    expect(git(repo, 'branch', '--list')).toBe(branchesBefore);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('the real binary behaves the same on a sample (no stack trace, exit 2)', async () => {
    const repo = makeRepo();
    const dir = tempDir('pcc-fuzz-bin-');
    writeFileSync(join(dir, 'bad.txt'), Buffer.from([0xff, 0xfe, 0x00]));
    const env = { ...process.env, PARALLEL_CC_HOME: join(dir, 'home') };
    for (const args of [['--prompt-file', join(dir, 'bad.txt')], ['--timeout', '-3', '--prompt', 'x'], ['--provider', '../x', '--prompt', 'x']]) {
      const r = await runCli(['sandbox', 'run', '--repo', repo, ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(dir, 'home'))).toBe(false);
  });
});
