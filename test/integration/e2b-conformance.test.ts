/**
 * The E2B emulator's envd against the unmodified `e2b` SDK: the behaviour real envd has (read from
 * e2b-dev/infra packages/envd and the SDK's own tests) and the provider depends on. Written for
 * this project; nothing here is copied from E2B.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileType, NotEnoughSpaceError, Sandbox, TimeoutError, type FilesystemEvent } from 'e2b';
import { startE2BEmulator, type E2BEmulator } from '../fixtures/e2b/index.js';
import { E2B_KEY } from '../helpers/e2b.js';

const ROOT = process.getuid?.() === 0;
let emu: E2BEmulator;
let sbx: Sandbox;
const opts = (): { apiKey: string; apiUrl: string; sandboxUrl: string } => ({ apiKey: E2B_KEY, apiUrl: emu.apiUrl, sandboxUrl: emu.sandboxUrl });
const sh = async (cmd: string, extra: { user?: 'root' | 'user' } = {}): Promise<string> => (await sbx.commands.run(cmd, extra)).stdout.trim();
const alive = async (pid: string): Promise<boolean> => (await sbx.commands.run(`kill -0 ${pid} 2>/dev/null && echo yes || echo no`)).stdout.trim() === 'yes';

beforeAll(async () => {
  emu = await startE2BEmulator({ apiKey: E2B_KEY });
  sbx = await Sandbox.create('base', opts());
});
afterAll(async () => {
  await sbx?.kill().catch(() => false);
  await emu?.close();
});

describe('envd processes', () => {
  it('kill signals only the command pid: a child of a killed command survives, and the end comes at once', async () => {
    const h = await sbx.commands.run('sleep 60 & echo $! > /tmp/child; wait', { background: true, timeoutMs: 0 });
    await expect.poll(() => sh('cat /tmp/child 2>/dev/null'), { timeout: 5000 }).toMatch(/^\d+$/);
    const child = await sh('cat /tmp/child');
    const t0 = Date.now();
    expect(await h.kill()).toBe(true);
    // The sleeping child still holds the stdout pipe: envd reports the end anyway.
    await expect(h.wait()).rejects.toMatchObject({ exitCode: -1, error: 'signal: killed' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await alive(child)).toBe(true);
    await sh(`kill ${child}`);
    expect(await sbx.commands.kill(999_999)).toBe(false);
  });

  it('a command with timeoutMs: 1000 is killed server-side when its Connect-Timeout-Ms runs out', async () => {
    await expect(sbx.commands.run('echo $$ > /tmp/timed; exec sleep 30', { timeoutMs: 1000 })).rejects.toBeInstanceOf(TimeoutError);
    const pid = await sh('cat /tmp/timed');
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe(false);
    // A command that is merely disconnected from keeps running (only the timeout kills).
    const h = await sbx.commands.run('exec sleep 30', { background: true, timeoutMs: 0 });
    await h.disconnect();
    expect(await alive(String(h.pid))).toBe(true);
    expect((await sbx.commands.list()).map((p) => p.pid)).toContain(h.pid);
    await sbx.commands.kill(h.pid);
  });

  it('runs as uid 1000 `user` by default, as root on request, with envd’s environment, and refuses a missing cwd', async () => {
    expect(await sh('id -un; echo $HOME; pwd')).toBe('user\n/home/user\n/home/user');
    if (ROOT) expect(await sh('id -un; echo $HOME; pwd', { user: 'root' })).toBe('root\n/root\n/root');
    expect(await sh('echo "$FOO:$USER:$LOGNAME"', {})).toBe(':user:user');
    expect((await sbx.commands.run('echo $FOO', { envs: { FOO: 'bar' } })).stdout).toBe('bar\n');
    await expect(sbx.commands.run('true', { cwd: '/nope' })).rejects.toThrow(/cwd '\/nope' does not exist/);
    const r = await sbx.commands.run('exit 3').catch((e: unknown) => e as { exitCode: number; error: string });
    expect(r).toMatchObject({ exitCode: 3, error: 'exit status 3' });
  });
});

describe('envd filesystem', () => {
  it('stat reports envd’s fields: type, mode without type bits, Go permission string, owner, group, size, mtime, symlink target', async () => {
    await sbx.files.write('/home/user/fs/a.txt', 'hello');
    await sh('ln -s a.txt /home/user/fs/link && mkdir -p /home/user/fs/d/e && chmod 755 /home/user/fs/d');
    const f = await sbx.files.getInfo('fs/a.txt');
    expect(f).toMatchObject({ name: 'a.txt', type: FileType.FILE, path: '/home/user/fs/a.txt', size: 5, mode: 0o644, permissions: '-rw-r--r--', owner: 'user', group: 'user' });
    expect(Math.abs((f.modifiedTime?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    const l = await sbx.files.getInfo('/home/user/fs/link');
    expect(l).toMatchObject({ type: FileType.FILE, symlinkTarget: '/home/user/fs/a.txt', mode: 0o644, permissions: 'Lrwxrwxrwx' });
    expect(await sbx.files.getInfo('/home/user/fs/d')).toMatchObject({ type: FileType.DIR, mode: 0o755, permissions: 'drwxr-xr-x' });
    expect(await sbx.files.getInfo('/tmp')).toMatchObject({ permissions: 'dtrwxrwxrwx', owner: ROOT ? 'root' : 'user' });
    await expect(sbx.files.getInfo('/home/user/fs/missing')).rejects.toThrow(/not found/i);
    expect(await sbx.files.exists('/home/user/fs/missing')).toBe(false);
  });

  it('lists to a depth in lexical order, moves, makes directories (an existing one: false) and removes', async () => {
    await sbx.files.write('/home/user/ls/b/c.txt', 'c');
    await sbx.files.write('/home/user/ls/a.txt', 'a');
    expect((await sbx.files.list('/home/user/ls')).map((e) => e.path)).toEqual(['/home/user/ls/a.txt', '/home/user/ls/b']);
    expect((await sbx.files.list('ls', { depth: 2 })).map((e) => e.path)).toEqual(['/home/user/ls/a.txt', '/home/user/ls/b', '/home/user/ls/b/c.txt']);
    await expect(sbx.files.list('/home/user/ls/a.txt')).rejects.toThrow(/not a directory/);
    await expect(sbx.files.list('/home/user/nope')).rejects.toThrow(/not found/i);
    expect(await sbx.files.makeDir('/home/user/ls/new/deep')).toBe(true);
    expect(await sbx.files.makeDir('/home/user/ls/new/deep')).toBe(false);
    expect((await sbx.files.getInfo('/home/user/ls/new')).owner).toBe('user');
    const moved = await sbx.files.rename('/home/user/ls/a.txt', '/home/user/ls/x/y/a2.txt');
    expect(moved).toMatchObject({ path: '/home/user/ls/x/y/a2.txt', name: 'a2.txt', type: FileType.FILE });
    await expect(sbx.files.rename('/home/user/ls/a.txt', '/home/user/ls/z')).rejects.toThrow(/not found/i);
    await sbx.files.remove('/home/user/ls');
    await sbx.files.remove('/home/user/ls'); // a missing path is no error
    expect(await sbx.files.exists('/home/user/ls')).toBe(false);
  });

  it('watchDir streams create, write and remove events of a directory', async () => {
    await sbx.files.makeDir('/home/user/w');
    const events: FilesystemEvent[] = [];
    const handle = await sbx.files.watchDir('/home/user/w', (e) => void events.push(e));
    await sbx.files.write('/home/user/w/f.txt', 'x');
    await sh('echo more >> /home/user/w/f.txt && rm /home/user/w/f.txt');
    await expect.poll(() => events.map((e) => `${e.type}:${e.name}`), { timeout: 5000 }).toEqual(expect.arrayContaining(['create:f.txt', 'write:f.txt', 'remove:f.txt']));
    await handle.stop();
    await expect(sbx.files.watchDir('/home/user/none', () => undefined)).rejects.toThrow(/not found/i);
  });

  it('decodes a gzip upload and gzips a download on request, byte for byte', async () => {
    const data = new Uint8Array(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251));
    await sbx.files.write('/home/user/gz.bin', new Blob([data]), { gzip: true });
    expect(Buffer.from(await sbx.files.read('/home/user/gz.bin', { format: 'bytes' }))).toEqual(Buffer.from(data));
    expect(Buffer.from(await sbx.files.read('/home/user/gz.bin', { format: 'bytes', gzip: true }))).toEqual(Buffer.from(data));
    expect(await sh('wc -c < /home/user/gz.bin')).toBe('100000');
  });

  it('keeps file metadata as user.e2b.* xattrs: surfaced by write, stat, list and move; a rewrite replaces it', async () => {
    const info = await sbx.files.write('/home/user/meta/m.txt', 'x', { metadata: { author: 'pcc', stage: 'one' } });
    expect(info.metadata).toEqual({ author: 'pcc', stage: 'one' });
    expect((await sbx.files.getInfo('/home/user/meta/m.txt')).metadata).toEqual({ author: 'pcc', stage: 'one' });
    expect((await sbx.files.list('/home/user/meta')).map((e) => e.metadata)).toEqual([{ author: 'pcc', stage: 'one' }]);
    expect((await sbx.files.rename('/home/user/meta/m.txt', '/home/user/meta/n.txt')).metadata).toEqual({ author: 'pcc', stage: 'one' });
    await sbx.files.write('/home/user/meta/n.txt', 'y');
    expect((await sbx.files.getInfo('/home/user/meta/n.txt')).metadata).toBeUndefined();
  });

  it.runIf(ROOT)('writes as the requested user and owns new parents for them', async () => {
    await sbx.files.write('/home/user/own/r.txt', 'r', { user: 'root' });
    expect(await sbx.files.getInfo('/home/user/own/r.txt')).toMatchObject({ owner: 'root', group: 'root' });
    await sbx.files.write('/home/user/own2/u.txt', 'u');
    expect(await sbx.files.getInfo('/home/user/own2')).toMatchObject({ owner: 'user', mode: 0o755 });
    expect(await sh('stat -c %U /home/user/own2/u.txt')).toBe('user');
  });
});

describe.runIf(ROOT)('envd on a full disk', () => {
  it('refuses a write beyond the disk with 507 (NotEnoughSpaceError) and envd’s message', async () => {
    const small = await startE2BEmulator({ apiKey: E2B_KEY, diskBytes: 1024 * 1024 });
    try {
      const box = await Sandbox.create('base', { apiKey: E2B_KEY, apiUrl: small.apiUrl, sandboxUrl: small.sandboxUrl });
      const err = await box.files.write('/home/user/big.bin', new Blob([new Uint8Array(2 * 1024 * 1024)])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotEnoughSpaceError);
      expect(String((err as Error).message)).toMatch(/not enough disk space available/);
      await box.kill();
    } finally {
      await small.close();
    }
  });
});
