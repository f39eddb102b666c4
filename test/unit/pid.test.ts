/** One pass over many rows asks the kernel once per owner pid (status and the dashboard share it). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pidAliveOnce } from '../../src/core/pid.js';

afterEach(() => vi.restoreAllMocks());

describe('pidAliveOnce', () => {
  it('asks once per pid in a pass, answers as pidAlive does, and a new pass asks again', () => {
    const kill = vi.spyOn(process, 'kill');
    const alive = pidAliveOnce();
    const gone = 2 ** 22 + 1; // above the kernel's pid_max: never a process
    expect([alive(process.pid), alive(process.pid), alive(gone), alive(gone), alive(null), alive(process.pid)]).toEqual([true, true, false, false, false, true]);
    expect(kill.mock.calls).toEqual([
      [process.pid, 0],
      [gone, 0],
    ]);
    expect(pidAliveOnce()(process.pid)).toBe(true);
    expect(kill).toHaveBeenCalledTimes(3);
  });
});
