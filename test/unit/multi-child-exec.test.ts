import { describe, expect, it } from 'vitest';
import { ChildExecHandle } from '../../src/providers/child-exec.js';

describe('ChildExecHandle (what --multi relies on to stop tasks)', () => {
  it('ends once the process exited even if a descendant still holds its output open', async () => {
    // The background sleep inherits stdout and outlives the shell, like an orphaned sandbox would.
    const h = new ChildExecHandle(['/bin/sh', '-c', 'sleep 30 & echo "$!"; exit 3'], { env: process.env });
    const started = Date.now();
    let out = '';
    for await (const chunk of h) out += chunk.data.toString();
    const exit = await h.wait();
    const orphan = Number(out.trim());
    try {
      expect(exit.exitCode).toBe(3);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(orphan).toBeGreaterThan(0);
    } finally {
      if (orphan > 0) process.kill(orphan, 'SIGKILL');
    }
  });
});
