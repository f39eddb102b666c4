import { describe, expect, it } from 'vitest';
import { bwrapArgv } from '../../src/providers/native/bwrap-argv.js';

describe('bwrapArgv', () => {
  const argv = bwrapArgv({
    system: [{ kind: 'symlink', src: 'usr/bin', dest: '/bin' }, { kind: 'ro-bind', src: '/usr', dest: '/usr' }],
    mounts: [{ kind: 'bind', src: '/host/ws', dest: '/workspace' }],
    uid: 1000,
    gid: 1000,
    hostname: 'parallel-cc',
    cwd: '/workspace',
    env: { HOME: '/home/agent', A: 'x y $(z)' },
    argv: ['claude', '-p', '$(rm -rf /)'],
  });
  const after = (flag: string): string | undefined => argv[argv.indexOf(flag) + 1];

  it('isolates every namespace, drops privileges and dies with its parent', () => {
    expect(argv[0]).toBe('bwrap');
    for (const f of ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--clearenv']) expect(argv).toContain(f);
    expect(after('--uid')).toBe('1000');
    expect(after('--cap-drop')).toBe('ALL');
  });
  it('mounts in order and makes the root read-only after the mounts', () => {
    expect(argv.indexOf('--remount-ro')).toBeGreaterThan(argv.indexOf('/workspace'));
    expect(argv.slice(argv.indexOf('--symlink'), argv.indexOf('--symlink') + 3)).toEqual(['--symlink', 'usr/bin', '/bin']);
  });
  it('passes env and the command as separate argv entries, never through a shell', () => {
    expect(argv.slice(argv.indexOf('--setenv'), argv.indexOf('--setenv') + 3)).toEqual(['--setenv', 'HOME', '/home/agent']);
    expect(argv).toContain('x y $(z)');
    expect(argv.slice(-4)).toEqual(['--', 'claude', '-p', '$(rm -rf /)']);
  });
});
