/**
 * The crash guard: a bug that throws asynchronously in the middle of a real run (simulated with the
 * test-only PARALLEL_CC_TEST_CRASH_ON_SIGUSR2 hook of src/bin.ts) must not leave a sandbox running
 * unobserved: the registry row says failed ("internal error: …"), the sandbox is gone, exit 70.
 */
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { startCli } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { tempDir } from '../helpers/git-repo.js';
import { hostFixture, REAL_KEY } from '../helpers/security.js';

let server: ModelServer | undefined;
const cleanup: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const p of cleanup.splice(0)) rmSync(p, { recursive: true, force: true });
});

/** Host processes whose command line contains `marker` (the sandbox's processes are host processes). */
const processesWith = (marker: string): string[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'latin1').replaceAll('\0', ' ');
        return cmd.includes(marker) ? [`${p}: ${cmd}`] : [];
      } catch {
        return [];
      }
    });

/** Pids of the `bwrap` processes below `root` in the process tree (the native sandboxes of a CLI). */
const bwrapsBelow = (root: number): number[] => {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      // pid (comm) state ppid …: comm may contain spaces, so split after the last ')'.
      names.set(Number(p), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name === 'bwrap' && below(pid)).map(([pid]) => pid);
};
const alive = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
};

const until = async (what: string, ok: () => boolean, ms = 90_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];
const CASES = PROVIDERS.flatMap((p) => (p === 'native' ? [[p, 'exception'], [p, 'rejection']] : [[p, 'exception']]));

describe.each(CASES)('crash guard on the %s provider (%s)', (provider, mode) => {
  it('records the session failed, removes the sandbox and exits 70', { timeout: 180_000 }, async () => {
    const { hostHome, repo, home } = hostFixture();
    cleanup.push(hostHome, repo, home);
    // A unique sleep length marks the agent's own process, visible from the host while it runs.
    const marker = `${randomInt(100, 900)}.${randomInt(100000, 999999)}`;
    server = await startModelServer({ scenario: { steps: [{ toolUses: [{ name: 'Bash', input: { command: `echo waiting; sleep ${marker}; echo never`, timeout: 600_000 } }] }, { text: 'done' }] } });
    const env = { ...process.env, HOME: hostHome, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1', PARALLEL_CC_TEST_CRASH_ON_SIGUSR2: mode };
    const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'sleep', '--json', '--timeout', '5', '--provider', provider], { env });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    await until('the agent to run its sleep', () => processesWith(`sleep ${marker}`).length > 0);
    const sessionId = /"sessionId":"([0-9a-f]+)"/.exec(out)?.[1] as string;
    expect(sessionId).toMatch(/^[0-9a-f]{8}$/);
    if (provider === 'docker') expect(leftoverContainers([sessionId]).length).toBe(1);
    const bwraps = provider === 'native' ? bwrapsBelow(child.pid as number) : [];
    if (provider === 'native') expect(bwraps.length).toBeGreaterThan(0);

    child.kill('SIGUSR2');
    const r = await done;

    expect(r.code, r.stderr).toBe(70);
    expect(r.stderr).toMatch(/internal error: test crash/);
    expect(r.stderr).toContain(`stopping the sandboxes of session(s) ${sessionId}`);
    const db = openDb(join(home, 'coordinator.db'));
    try {
      const row = new SessionRepository(db).get(sessionId);
      expect(row?.status).toBe('failed');
      expect(row?.error).toMatch(/^internal error: test crash/);
      expect(row?.exitCode).toBe(70);
    } finally {
      db.close();
    }
    expect(processesWith(`sleep ${marker}`)).toEqual([]);
    if (provider === 'native') expect(bwraps.filter(alive)).toEqual([]);
    else expect(leftoverContainers([sessionId])).toEqual([]);
  });
});

describe('crash guard with --multi (native)', () => {
  it('fails every running task of the batch and removes all their sandboxes', { timeout: 180_000 }, async () => {
    const { hostHome, repo, home } = hostFixture();
    const out = tempDir('pcc-crash-out-');
    cleanup.push(hostHome, repo, home, out);
    const marker = `${randomInt(100, 900)}.${randomInt(100000, 999999)}`;
    server = await startModelServer({ scenario: { steps: [{ toolUses: [{ name: 'Bash', input: { command: `echo waiting; sleep ${marker}; echo never`, timeout: 600_000 } }] }, { text: 'done' }] } });
    const env = { ...process.env, HOME: hostHome, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1', PARALLEL_CC_TEST_CRASH_ON_SIGUSR2: 'exception' };
    const args = ['sandbox', 'run', '--multi', '--repo', repo, '--task', 'one', '--task', 'two', '--max-concurrent', '2', '--output-dir', out, '--json', '--timeout', '5'];
    const { child, done } = startCli(args, { env });
    await until('both agents to run their sleep', () => processesWith(`sleep ${marker}`).length >= 2);

    child.kill('SIGUSR2');
    const r = await done;

    expect(r.code, r.stderr).toBe(70);
    const db = openDb(join(home, 'coordinator.db'));
    try {
      const rows = new SessionRepository(db).list();
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.status).toBe('failed');
        expect(row.error).toMatch(/^internal error: test crash/);
        expect(r.stderr).toContain(row.id);
      }
    } finally {
      db.close();
    }
    expect(processesWith(`sleep ${marker}`)).toEqual([]);
  });
});
