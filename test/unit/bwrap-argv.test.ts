import { describe, expect, it } from 'vitest';
import { ARGS_FD, bwrapCommand, encodeArgs } from '../../src/providers/native/bwrap-argv.js';

describe('bwrapCommand', () => {
  const cmd = bwrapCommand({
    system: [{ kind: 'symlink', src: 'usr/bin', dest: '/bin' }, { kind: 'ro-bind', src: '/usr', dest: '/usr' }],
    mounts: [{ kind: 'bind', src: '/host/ws', dest: '/workspace' }],
    uid: 1000,
    gid: 1000,
    hostname: 'parallel-cc',
    cwd: '/workspace',
    env: { HOME: '/home/agent', A: 'x y $(z)' },
    argv: ['claude', '-p', '$(rm -rf /)'],
  });
  const opts = cmd.options;
  const after = (flag: string): string | undefined => opts[opts.indexOf(flag) + 1];

  it("keeps bwrap's own argv (the sandbox's /proc/1/cmdline) short and fixed: options come from fd 3", () => {
    expect(ARGS_FD).toBe(3);
    expect(cmd.argv).toEqual(['bwrap', '--args', '3', '--', 'claude', '-p', '$(rm -rf /)']);
    // No mount source, environment value or option on the argv.
    expect(cmd.argv.join(' ')).not.toMatch(/\/host\/ws|HOME|--bind|--setenv|--uid/);
    expect(opts).not.toContain('--');
    expect(opts).not.toContain('claude');
  });
  it('isolates every namespace, drops privileges and dies with its parent', () => {
    for (const f of ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--clearenv']) expect(opts).toContain(f);
    expect(after('--uid')).toBe('1000');
    expect(after('--cap-drop')).toBe('ALL');
  });
  it('mounts in order and makes the root read-only after the mounts', () => {
    expect(opts.indexOf('--remount-ro')).toBeGreaterThan(opts.indexOf('/workspace'));
    expect(opts.slice(opts.indexOf('--symlink'), opts.indexOf('--symlink') + 3)).toEqual(['--symlink', 'usr/bin', '/bin']);
    expect(opts.slice(opts.indexOf('--bind'), opts.indexOf('--bind') + 3)).toEqual(['--bind', '/host/ws', '/workspace']);
  });
  it('passes env as separate entries, never through a shell, and ends with the working folder', () => {
    expect(opts.slice(opts.indexOf('--setenv'), opts.indexOf('--setenv') + 3)).toEqual(['--setenv', 'HOME', '/home/agent']);
    expect(opts).toContain('x y $(z)');
    expect(opts.slice(-2)).toEqual(['--chdir', '/workspace']);
  });
});

describe('encodeArgs', () => {
  it('NUL-terminates every option, spaces and quotes kept verbatim', () => {
    expect(encodeArgs(['--setenv', 'A', 'x y "z"', '']).toString('utf8')).toBe('--setenv\0A\0x y "z"\0\0');
  });
  it('refuses an option containing NUL (it would split into two)', () => {
    expect(() => encodeArgs(['a\0--bind'])).toThrow(/NUL/);
  });
});
