import { describe, expect, it } from 'vitest';
import { parseLdd } from '../../src/providers/docker/host-runtime.js';
import { parseCounters, readCounters } from '../../src/providers/docker/limits.js';
import { demuxLogs } from '../../src/providers/docker/diagnose.js';

describe('docker provider parsers', () => {
  it('reads the libraries and the loader of the host node from ldd', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007fff)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f13)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f13)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f13)',
    ].join('\n');
    expect(parseLdd(out)).toEqual([
      ['libstdc++.so.6', '/lib/x86_64-linux-gnu/libstdc++.so.6'],
      ['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'],
      ['ld.so', '/lib64/ld-linux-x86-64.so.2'],
    ]);
    // A missing library or an unknown format (musl's ldd, say) means: use the image's own node.
    expect(parseLdd('\tlibfoo.so.1 => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x1)')).toBeUndefined();
    expect(parseLdd('\tlibc.so.6 => /lib/libc.so.6 (0x1)')).toBeUndefined();
    expect(parseLdd('something else entirely')).toBeUndefined();
  });

  it('counts refused forks and OOM kills from cgroup v1 and v2 files', () => {
    expect(parseCounters('max 0\n', 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n')).toEqual({ pidsMax: 0, oomKills: 0 });
    expect(parseCounters('max 17\n', '')).toEqual({ pidsMax: 17 });
    // v2 memory.events has a `max` line too: it must not count as refused forks.
    expect(parseCounters('max 0\n', 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n')).toEqual({ pidsMax: 0, oomKills: 2 });
    expect(parseCounters('', '')).toEqual({ pidsMax: 0 });
  });

  it('strips the frame headers of a container log', () => {
    const frame = (stream: number, text: string): Buffer => {
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([head, Buffer.from(text)]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, '[FATAL tini (7)] exec sleep failed\n')]))).toBe('out\n[FATAL tini (7)] exec sleep failed\n');
    expect(demuxLogs(Buffer.alloc(0))).toBe('');
  });
});

describe('readCounters (issue 26: no round trip into the container when the host can tell)', () => {
  const files = (entries: Record<string, string>) => (p: string): Promise<string> => (p in entries ? Promise.resolve(entries[p] as string) : Promise.reject(new Error('ENOENT')));
  it('takes both counters from the host cgroup files, without running anything in the container', async () => {
    let inside = 0;
    const read = files({ '/sys/fs/cgroup/pids/docker/abc/pids.events': 'max 3\n', '/sys/fs/cgroup/memory/docker/abc/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n' });
    expect(await readCounters('abc', () => ((inside += 1), Promise.resolve('{}')), read)).toEqual({ pidsMax: 3, oomKills: 1 });
    expect(inside).toBe(0);
  });
  it('asks inside the container when a host file is missing, and keeps the larger pids count', async () => {
    let inside = 0;
    const read = files({ '/sys/fs/cgroup/system.slice/docker-abc.scope/pids.events': 'max 2\n' });
    const r = await readCounters('abc', () => ((inside += 1), Promise.resolve(JSON.stringify({ pids: 'max 1\n', memory: 'oom 0\noom_kill 4\n' }))), read);
    expect(r).toEqual({ pidsMax: 2, oomKills: 4 });
    expect(inside).toBe(1);
  });
});
