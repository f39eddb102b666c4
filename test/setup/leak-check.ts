/**
 * globalSetup: the whole test run gets a private TMPDIR and sandbox root (PARALLEL_CC_SANDBOX_ROOT),
 * inherited by every worker, CLI, sandbox and fixture it starts. Whatever is still in them when the
 * run ends was leaked by a test, a fixture or the CLI itself: it is listed and the run fails. New
 * `pcc-*` entries in the real $TMPDIR and /var/tmp (something that ignored TMPDIR, or the host-paths
 * test, which uses the default root) are listed too — as a warning, since on a shared machine other
 * processes may create them.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const list = (dir: string, match: (name: string) => boolean = () => true): string[] => {
  try {
    return readdirSync(dir)
      .filter(match)
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
};
const ours = (n: string): boolean => /^(pcc-|e2b-emu-|parallel-cc-)/.test(n);

/** Sets up the private folders; returns the teardown that checks them. */
export default function setup(): () => void {
  const realTmp = tmpdir();
  const before = new Set([...list(realTmp, ours), ...list('/var/tmp', ours)]);
  const run = mkdtempSync(join(realTmp, 'pcc-vitest-'));
  const tmp = join(run, 'tmp');
  const sandboxes = join(run, 'sandboxes');
  mkdirSync(tmp, { mode: 0o700 });
  mkdirSync(sandboxes, { mode: 0o700 });
  process.env.TMPDIR = tmp;
  process.env.PARALLEL_CC_SANDBOX_ROOT = sandboxes;
  before.add(run);

  return () => {
    const leaked = [...list(tmp), ...list(sandboxes)];
    const elsewhere = [...list(realTmp, ours), ...list('/var/tmp', ours)].filter((p) => !before.has(p));
    rmSync(run, { recursive: true, force: true, maxRetries: 3 });
    if (elsewhere.length > 0) console.warn(`[leak-check] new entries outside the run's TMPDIR (from these tests, or another process):\n  ${elsewhere.join('\n  ')}`);
    if (leaked.length > 0) throw new Error(`[leak-check] tests left ${leaked.length} entries behind (now removed):\n  ${leaked.join('\n  ')}`);
  };
}
