import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { ChildExecHandle } from '../../src/providers/child-exec.js';
import { vendorError, type VendorErrors } from '../../src/providers/remote/errors.js';
import { followKeptLog, keptLogRunning, type RemoteShell } from '../../src/providers/remote/follow.js';
import { commandScript, keptLogFiles, killGroupScript } from '../../src/providers/remote/kept-log.js';
import { shellJoin, shellQuote } from '../../src/providers/remote/quote.js';
import { extractArgv, streamedUpload } from '../../src/providers/remote/upload.js';
import { tempDir } from '../helpers/git-repo.js';

const bash = (script: string, cwd: string): string => execFileSync('bash', ['-c', script], { cwd, encoding: 'utf8' });

/** A "vendor" whose sandbox is a folder on this machine: commands run with bash, files are read from disk. */
function hostShell(cwd: string): RemoteShell {
  return {
    execute: (req) => new ChildExecHandle(req.argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd }),
    readFile: (path) => Promise.resolve(existsSync(path) ? readFileSync(path) : undefined),
  };
}

describe('remote kit: quoting', () => {
  it('makes each argv element exactly one shell word, newlines, quotes and globs included', () => {
    const dir = tempDir();
    const words = ["a'b", 'two\nlines', '*', '$HOME', '\\', '!', '~', "''", '--', 'x=$(id)'];
    expect(bash(shellJoin(['printf', '%s\\0', ...words]), dir).split('\0').slice(0, -1)).toEqual(words);
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a@b:c,d/e.f=g+h%i-j_k')).toBe('a@b:c,d/e.f=g+h%i-j_k');
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`);
  });
});

describe('remote kit: kept-log commands', () => {
  it('kills the whole process group from the pid file, and is harmless without one', () => {
    const dir = tempDir();
    const log = keptLogFiles(dir, 'agent');
    expect(log).toEqual({ out: join(dir, 'agent.out'), pid: join(dir, 'agent.pid'), exit: join(dir, 'agent.exit') });
    expect(() => bash(killGroupScript({ pidFile: log.pid }), dir)).not.toThrow();
    expect(killGroupScript({ pid: 42 })).toBe('pg=42; [ -n "$pg" ] && kill -KILL -- "-$pg" 2>/dev/null; true');
  });

  it('follows a kept log from a line to its end and reports the exit code; isRunning sees it end', async () => {
    const dir = tempDir();
    const log = keptLogFiles(dir, 'run');
    const shell = hostShell(dir);
    const script = commandScript(['bash', '-c', 'echo one; echo two; sleep 0.5; echo three; exit 3'], { log });
    const running = new ChildExecHandle(['bash', '-c', script], { env: { PATH: process.env.PATH ?? '' }, cwd: dir });
    for (let i = 0; i < 50 && !existsSync(log.pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await keptLogRunning(shell, log)).toBe(true);
    const lines: string[] = [];
    const r = await followKeptLog(shell, log, { fromLine: 2, onLine: (l) => lines.push(l), signal: new AbortController().signal });
    expect(lines).toEqual(['two', 'three']);
    expect(r).toEqual({ exitCode: 3 });
    expect((await running.wait()).exitCode).toBe(3);
    expect(await keptLogRunning(shell, log)).toBe(false);
  });

  it('reads a log whose command never wrote a pid once, with no exit code', async () => {
    const dir = tempDir();
    const log = keptLogFiles(dir, 'half');
    writeFileSync(log.out, 'only\nthis');
    const lines: string[] = [];
    expect(await followKeptLog(hostShell(dir), log, { fromLine: 1, onLine: (l) => lines.push(l), signal: new AbortController().signal })).toEqual({ exitCode: null });
    expect(lines).toEqual(['only', 'this']);
  });
});

describe('remote kit: streamed upload', () => {
  it('writes one tar.gz, unpacks it into the workspace and removes it; a failed write ends the stream', async () => {
    const src = tempDir();
    const box = tempDir();
    writeFileSync(join(src, 'a.txt'), 'hello');
    execFileSync('mkdir', ['-p', join(box, 'state'), join(box, 'ws')]);
    const ran: string[][] = [];
    const vendor = {
      write: (path: string, data: import('node:stream').Readable) => pipeline(data, createWriteStream(path)),
      run: (argv: string[]) => (ran.push(argv), Promise.resolve(execFileSync(argv[0] as string, argv.slice(1)))),
    };
    const where = { stateDir: join(box, 'state'), workdir: join(box, 'ws') };
    const r = await streamedUpload(vendor, { root: src, files: [{ path: 'a.txt', kind: 'file', size: 5 }] }, where);
    expect(r).toEqual({ files: 1, bytes: 5 });
    expect(readFileSync(join(box, 'ws', 'a.txt'), 'utf8')).toBe('hello');
    expect(ran[0]).toEqual(extractArgv(join(box, 'state', 'upload.tar.gz'), join(box, 'ws')));
    expect(existsSync(join(box, 'state', 'upload.tar.gz'))).toBe(false);
    const refused = new AppError('environment', 'disk full');
    await expect(streamedUpload({ write: () => Promise.reject(refused), run: vendor.run }, { root: src, files: [] }, where)).rejects.toBe(refused);
  });
});

describe('remote kit: SDK error mapping', () => {
  const acme: VendorErrors = {
    name: 'Acme',
    statusPage: 'https://status.acme.test',
    keyHint: 'Check ACME_KEY.',
    diskHint: 'Use a bigger box.',
    notFoundHint: 'The box ended.',
    names: { auth: ['AcmeAuthError'], notFound: ['BoxGone'] },
    boilerplate: [/ \(see docs\)$/],
  };
  const status = (code: number, message = `${code}: nope`): Error => Object.assign(new Error(message), { statusCode: code });

  it('maps HTTP statuses and SDK error names to kinds and hints, naming the vendor', () => {
    expect(vendorError(acme, 'creating the box', status(403))).toMatchObject({ kind: 'environment', message: 'Acme rejected the API key while creating the box (HTTP 403)', hint: 'Check ACME_KEY.' });
    expect(vendorError(acme, 'x', Object.assign(new Error('bad'), { name: 'AcmeAuthError' })).message).toBe('Acme rejected the API key while x (HTTP 401)');
    expect(vendorError(acme, 'x', new Error('429: slow down')).message).toBe('Acme refused the request while x: rate limit or sandbox quota reached (HTTP 429)');
    expect(vendorError(acme, 'x', status(507, 'full (see docs)'))).toMatchObject({ message: "the Acme sandbox's disk is full while x: full", hint: 'Use a bigger box.' });
    expect(vendorError(acme, 'x', status(502))).toMatchObject({ message: 'the Acme API failed while x (HTTP 502): 502: nope', hint: 'Acme may be having an outage: see https://status.acme.test, then retry.' });
    expect(vendorError(acme, 'x', Object.assign(new Error('gone'), { name: 'BoxGone' }))).toMatchObject({ kind: 'not_found', message: 'Acme: not found while x: gone', hint: 'The box ended.' });
    expect(vendorError(acme, 'x', status(404)).kind).toBe('not_found');
  });

  it('says what to check for timeouts and unreachable APIs, with the env variables only when the vendor has them', () => {
    expect(vendorError(acme, 'x', new Error('request timed out')).hint).toBe('Check your network and https://status.acme.test, then retry.');
    expect(vendorError({ ...acme, requestTimeoutEnv: 'ACME_WAIT' }, 'x', new Error('timeout')).hint).toBe('Check your network and https://status.acme.test, then retry; ACME_WAIT sets how long to wait (seconds).');
    const down = Object.assign(new Error('fetch failed'), { cause: new Error('getaddrinfo ENOTFOUND api.acme.test') });
    expect(vendorError(acme, 'x', down)).toMatchObject({ message: 'cannot reach the Acme API while x: fetch failed', hint: 'Check your network.' });
    expect(vendorError({ ...acme, endpointEnv: ['ACME_URL'] }, 'x', down).hint).toBe('Check your network (and ACME_URL if you set them).');
  });

  it('passes an AppError through, bounds the message to one line, never an unknown name as a case', () => {
    const own = new AppError('agent', 'mine');
    expect(vendorError(acme, 'x', own)).toBe(own);
    const odd = vendorError(acme, 'x', Object.assign(new Error(`multi\n  line ${'y'.repeat(400)}`), { name: 'AuthenticationError' }));
    expect(odd.message).toMatch(/^Acme failed while x: multi line y+$/);
    expect(odd.message.length).toBeLessThan(340);
    expect(vendorError(acme, 'x', 'a string').message).toBe('Acme failed while x: a string');
  });
});
