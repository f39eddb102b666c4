import { spawn } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive } from '../../src/core/pid.js';
import { createSandboxDir, removeSandboxDir, sandboxDirOf, sandboxRoot } from '../../src/core/sandbox-dir.js';
import { neutralPath, sandboxFiles } from '../../src/providers/local/sandbox-files.js';
import { tempDir } from '../helpers/git-repo.js';

describe('sandbox folders', () => {
  it('live under /var/tmp by default, or PARALLEL_CC_SANDBOX_ROOT (absolute only)', () => {
    expect(sandboxRoot({})).toBe('/var/tmp');
    expect(sandboxRoot({ PARALLEL_CC_SANDBOX_ROOT: '/srv/x/' })).toBe('/srv/x');
    expect(() => sandboxRoot({ PARALLEL_CC_SANDBOX_ROOT: 'rel/dir' })).toThrow(/not an absolute path/);
  });
  it('get a fresh random pcc- name, mode 0700, naming nothing of the session', async () => {
    const root = join(tempDir('pcc-sbroot-'), 'nested', 'root');
    const a = await createSandboxDir({ PARALLEL_CC_SANDBOX_ROOT: root });
    const b = await createSandboxDir({ PARALLEL_CC_SANDBOX_ROOT: root });
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^${root}/pcc-[A-Za-z0-9]{6}$`));
    expect(statSync(a).mode & 0o777).toBe(0o700);
    expect(statSync(a).uid).toBe(process.getuid?.());
  });
  it('are found from the registry row, old rows falling back to <session folder>/sandbox', () => {
    expect(sandboxDirOf({ sandboxDir: '/var/tmp/pcc-abc123', sessionDir: '/h/sessions/1' })).toBe('/var/tmp/pcc-abc123');
    expect(sandboxDirOf({ sandboxDir: null, sessionDir: '/h/sessions/1' })).toBe('/h/sessions/1/sandbox');
    expect(sandboxDirOf({ sandboxDir: null, sessionDir: null })).toBeUndefined();
  });
  it('are removed only when they are ours: a pcc-/sandbox directory, never a symlink or another name', async () => {
    const base = tempDir('pcc-sbrm-');
    const mine = join(base, 'pcc-abc123');
    mkdirSync(join(mine, 'workspace'), { recursive: true });
    const other = join(base, 'important');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'x');
    const link = join(base, 'pcc-link12');
    symlinkSync(other, link);
    expect(await removeSandboxDir(other)).toBe(false);
    expect(await removeSandboxDir(link)).toBe(false);
    expect(await removeSandboxDir(undefined)).toBe(false);
    expect(existsSync(join(other, 'keep.txt'))).toBe(true);
    expect(await removeSandboxDir(mine)).toBe(true);
    expect(existsSync(mine)).toBe(false);
  });
});

describe('files a sandbox mounts', () => {
  it('are hard-linked into the sandbox folder, so the mount source names the folder, not where they are installed', async () => {
    const installed = join(tempDir('pcc-sbinst-'), 'home', 'user', '.local', 'bin');
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(installed, 'claude'), 'binary');
    const box = tempDir('pcc-sbbox-');
    const files = await sandboxFiles(box, join(installed, 'claude'));
    expect(files.agent).toBe(join(box, 'opt', 'claude'));
    expect(statSync(String(files.agent)).ino).toBe(statSync(join(installed, 'claude')).ino);
    expect(files.init).toBe(join(box, 'opt', 'init.cjs'));
    // Again (reconnect): replaced, not refused.
    expect((await sandboxFiles(box, join(installed, 'claude'))).agent).toBe(join(box, 'opt', 'claude'));
  });
  it('are mounted from where they are when no hard link can be made (another filesystem)', async () => {
    expect(await neutralPath('/proc/self/status', tempDir('pcc-sbbox-'), 'x')).toMatch(/^\/proc\/\d+\/status$/);
  });
});

describe('pidAlive', () => {
  it('counts a killed process its parent has not reaped (a zombie) as gone', async () => {
    // The child exits after 0.2 s; its parent has exec'd into a sleep, which never waits for it.
    const parent = spawn('/bin/sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      await new Promise((r) => setTimeout(r, 700));
      expect(() => process.kill(zombie, 0)).not.toThrow(); // signal 0 still answers…
      expect(pidAlive(zombie)).toBe(false); // …but it runs nothing
      expect(pidAlive(parent.pid)).toBe(true);
      expect(pidAlive(process.pid)).toBe(true);
      expect(pidAlive(0)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
