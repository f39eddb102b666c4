import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { claudeUpdateOutcome } from '../../src/agents/claude/claude.js';
import { agentTimeout } from '../../src/core/run-steps.js';
import { packTarGz } from '../../src/core/sync/pack.js';
import { e2bError } from '../../src/providers/e2b/errors.js';
import { commandScript, shellJoin, shellQuote } from '../../src/providers/e2b/script.js';
import { sandboxCost } from '../../src/providers/provider.js';
import { tempDir } from '../helpers/git-repo.js';

const bash = (script: string, cwd: string): string => execFileSync('bash', ['-c', script], { cwd, encoding: 'utf8' });

describe('E2B provider parts', () => {
  it('quotes every argv element into exactly one shell word', () => {
    const nasty = ['printf', '%s\\n', "it's", '$(touch pwned)', '`id`', 'a b', '', '"; rm -rf / #', 'ünï ✓', '-n'];
    const dir = tempDir();
    const out = bash(shellJoin(nasty), dir);
    expect(out).toBe(`${nasty.slice(2).join('\n')}\n`);
    expect(shellQuote('plain/path-1.txt')).toBe('plain/path-1.txt');
    expect(() => statSync(join(dir, 'pwned'))).toThrow();
  });

  it('builds command scripts: stdin from a file, collected stdout, a kept log with pid and exit code', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'in'), 'from stdin\n');
    expect(bash(commandScript(['cat'], { stdin: join(dir, 'in') }), dir)).toBe('from stdin\n');
    bash(commandScript(['printf', 'bytes\\0\\377'], { stdout: join(dir, 'out') }), dir);
    expect(readFileSync(join(dir, 'out'))).toEqual(Buffer.from('bytes\0\xff', 'latin1'));
    const log = { out: join(dir, 'a.out'), pid: join(dir, 'a.pid'), exit: join(dir, 'a.exit') };
    let code = 0;
    try {
      bash(commandScript(['bash', '-c', 'echo one; echo two; exit 7'], { log }), dir);
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(7);
    expect(readFileSync(log.out, 'utf8')).toBe('one\ntwo\n');
    expect(readFileSync(log.exit, 'utf8').trim()).toBe('7');
    expect(readFileSync(log.pid, 'utf8').trim()).toMatch(/^\d+$/);
  });

  it('reads claude update: success, "already latest" with a non-zero exit, real failures', () => {
    expect(claudeUpdateOutcome(0, 'Successfully updated from 2.0.1 to 2.0.2\n').ok).toBe(true);
    expect(claudeUpdateOutcome(1, 'Claude Code is already at the latest version (2.0.2)\n')).toEqual({ ok: true, detail: 'already at the latest version' });
    const failed = claudeUpdateOutcome(1, 'Error: Failed to install native update\nTelemetrySafeError: ENOTFOUND\n');
    expect(failed.ok).toBe(false);
    expect(failed.detail).toMatch(/^exit code 1: Error: Failed to install native update/);
  });

  it('prices sandbox time per second with a one-minute minimum ($0.10/hour)', () => {
    const e2b = { usdPerHour: 0.1, minimumSeconds: 60 };
    // Rounded to a millionth of a dollar, like every cost parallel-cc emits or stores.
    expect(sandboxCost(e2b, 5)).toBe(0.001667);
    expect(sandboxCost(e2b, 600)).toBe(0.016667);
    expect(sandboxCost(e2b, 3600)).toBe(0.1);
    expect(sandboxCost(e2b, 90.2)).toBe(0.002528);
  });

  it('cuts the agent timeout short when the sandbox would end before its work could be collected', () => {
    const box = { id: 'x', provider: 'e2b' as const, workdir: '/w', homedir: '/h', agentPath: 'claude', endpoints: {} };
    const now = 1_000_000;
    expect(agentTimeout(30, box, now)).toEqual({ minutes: 30 });
    expect(agentTimeout(30, { ...box, expiresAt: now + 40 * 60_000 }, now)).toEqual({ minutes: 30 });
    const cut = agentTimeout(60, { ...box, expiresAt: now + 60 * 60_000 }, now);
    expect(cut.minutes).toBe(57);
    expect(cut.note).toMatch(/57 of the requested 60 minutes: the sandbox ends by itself 60 minutes from now.*PARALLEL_CC_E2B_TIMEOUT/);
    expect(agentTimeout(10, { ...box, expiresAt: now + 60_000 }, now).minutes).toBe(0.5);
  });

  it('maps SDK failures to errors that say what, why and what to do', () => {
    const auth = Object.assign(new Error('401: Invalid API key'), { name: 'AuthenticationError' });
    expect(e2bError('creating the sandbox', auth)).toMatchObject({ kind: 'environment', message: 'E2B rejected the API key while creating the sandbox (HTTP 401)' });
    const five = Object.assign(new Error('500: internal error'), { statusCode: 500 });
    expect(e2bError('creating the sandbox', five).message).toBe('the E2B API failed while creating the sandbox (HTTP 500): 500: internal error');
    const slow = Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
    expect(e2bError('listing', slow).hint).toMatch(/PARALLEL_CC_E2B_REQUEST_TIMEOUT/);
    expect(e2bError('connecting', Object.assign(new Error('404: sandbox not found'), { statusCode: 404 })).kind).toBe('not_found');
    const full = Object.assign(new Error('attempted to write 2097152 bytes: not enough disk space available'), { name: 'NotEnoughSpaceError' });
    expect(e2bError('uploading the working state', full)).toMatchObject({ kind: 'environment', message: "the E2B sandbox's disk is full while uploading the working state: attempted to write 2097152 bytes: not enough disk space available" });
    expect(e2bError('uploading', Object.assign(new Error('507: full'), { statusCode: 507 })).hint).toMatch(/\.e2bignore/);
    expect(e2bError('x', Object.assign(new Error('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') })).message).toMatch(/^cannot reach the E2B API/);
  });

  it('packs an upload plan as a streamed tar.gz that tar extracts with modes and symlinks', async () => {
    const src = tempDir();
    mkdirSync(join(src, 'bin'));
    writeFileSync(join(src, 'bin/run.sh'), 'echo run\n');
    chmodSync(join(src, 'bin/run.sh'), 0o755);
    writeFileSync(join(src, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
    symlinkSync('bin/run.sh', join(src, 'link'));
    const progress: number[] = [];
    const gz = await buffer(
      packTarGz(
        {
          root: src,
          files: [
            { path: 'bin/run.sh', kind: 'file', size: 9 },
            { path: 'big.bin', kind: 'file', size: 3 * 1024 * 1024 },
            { path: 'link', kind: 'symlink', size: 10 },
          ],
        },
        (n) => progress.push(n),
      ),
    );
    const out = tempDir();
    writeFileSync(join(out, 'x.tgz'), gz);
    execFileSync('tar', ['-xzf', 'x.tgz'], { cwd: out });
    expect(statSync(join(out, 'bin/run.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(out, 'big.bin')).equals(Buffer.alloc(3 * 1024 * 1024, 7))).toBe(true);
    expect(readlinkSync(join(out, 'link'))).toBe('bin/run.sh');
    expect(progress.at(-1)).toBe(9 + 3 * 1024 * 1024);
    expect(gz.length).toBeLessThan(100_000);
  });
});
