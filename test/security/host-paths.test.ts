/**
 * Host paths are how an attack is aimed: an agent that reads /proc/self/mountinfo, every
 * /proc/<pid>/cmdline (bwrap's pid 1 on native) and its environment must learn nothing about where
 * things live on the host — not the user's home, not PARALLEL_CC_HOME, not the session id, not the
 * repo, not the temp folder the CLI runs from. Real claude binary, real bwrap / dockerd, scripted
 * model server; what the model server received is everything the agent could exfiltrate.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { SessionRepository, type Session } from '../../src/store/sessions.js';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { hostFixture, REAL_KEY } from '../helpers/security.js';

const bash = (command: string): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command } }] });

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const onlyRow = (home: string): Session => {
  const db = openDb(join(home, 'coordinator.db'));
  try {
    const [row] = new SessionRepository(db).list();
    if (!row) throw new Error('no session row');
    return row;
  } finally {
    db.close();
  }
};

/** Every string leaf of a JSON-like value (unescaped, so path boundaries stay visible). */
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

/** Where `path` occurs as a path of its own (not inside another one: /var/tmp/pcc-x is not /tmp/pcc-x); -1 if nowhere. */
function mention(text: string, path: string): number {
  for (let at = text.indexOf(path); at !== -1; at = text.indexOf(path, at + 1)) if (at === 0 || !/[\w./-]/.test(text[at - 1] as string)) return at;
  return -1;
}

const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe.each(PROVIDERS)('host paths are invisible inside the %s sandbox', (provider) => {
  it('mountinfo, every cmdline and the environment name no host folder and no session id', async () => {
    const { hostHome, repo, home } = hostFixture();
    const probes = [
      'cat /proc/self/mountinfo; echo END-MOUNTINFO',
      // pid 1 is bwrap on native (docker: its init); then every process the agent can see.
      `tr '\\0' ' ' < /proc/1/cmdline; echo; echo END-PID1; for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done; echo END-CMDLINES`,
      'cat /proc/self/mountinfo /proc/1/cmdline /proc/*/cmdline 2>/dev/null | tr "\\0" " "; echo; env; echo END-ENV',
    ];
    server = await startModelServer({ scenario: { steps: [...probes.map(bash), { text: 'done' }] } });
    // The default sandbox root (/var/tmp), not the test run's private one.
    const { PARALLEL_CC_SANDBOX_ROOT: _private, ...inherited } = process.env;
    const env = { ...inherited, HOME: hostHome, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'look around', '--json', '--timeout', '5', '--provider', provider], { env });
    expect(r.code, r.stderr).toBe(0);

    const results = server.toolResults().map((t) => t.content);
    expect(results).toHaveLength(probes.length);
    const [mountinfo, cmdlines, envOut] = results as [string, string, string];
    // The probes really ran and saw what they were meant to see (a vacuous pass is impossible).
    expect(mountinfo).toMatch(/ \/workspace rw/);
    expect(mountinfo).toContain('END-MOUNTINFO');
    expect(cmdlines).toContain('END-CMDLINES');
    expect(envOut).toMatch(/HOME=\/home\/agent/);
    if (provider === 'native') {
      // bwrap's own argv is fixed: its options came through fd 3.
      expect(cmdlines.split('END-PID1')[0]?.trim()).toMatch(/^bwrap --args 3 -- /);
      expect(cmdlines).not.toMatch(/--bind|--setenv|--ro-bind/);
    }
    // The workspace is mounted from the session's sandbox folder, a random name under /var/tmp.
    const session = onlyRow(home);
    expect(session.sandboxDir).toMatch(/^\/var\/tmp\/pcc-[A-Za-z0-9]{6}$/);
    expect(mountinfo).toContain(`${String(session.sandboxDir)}/workspace /workspace`);

    // Everything the model server received: every string in every request body and header.
    const received = strings(server.requests).join('\n');
    const secrets = {
      'the host HOME': hostHome,
      PARALLEL_CC_HOME: home,
      'the session id': session.id,
      'the repo path': repo,
      'the temp folder': join(tmpdir(), 'pcc-'),
    };
    for (const [what, value] of Object.entries(secrets)) {
      const at = mention(received, value);
      expect(at, `${what} (${value}) reached the model server: …${received.slice(Math.max(0, at - 120), at + 80)}…`).toBe(-1);
    }

    // The run removed its sandbox folder (sockets included) at the end.
    expect(existsSync(String(session.sandboxDir))).toBe(false);
    const summary = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as Record<string, unknown>;
    expect(summary.status).toBe('completed');
  });
});
