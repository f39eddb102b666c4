/**
 * Egress from the agent's own commands, real claude against the scripted model server: the model
 * API's host is open on the model API's port only (a host-only service on another port of
 * 127.0.0.1 stays unreachable by plain HTTP proxying and by CONNECT), and malformed requests the
 * agent sends to the proxy and the broker get 4xx while the run completes with a truthful summary.
 * Also: a bad --allow-domain is refused before anything is created.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { git } from '../helpers/git-repo.js';
import { hostFixture, REAL_KEY } from '../helpers/security.js';

const bash = (command: string): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, timeout: 120_000 } }] });

let server: ModelServer | undefined;
let hostOnly: Server | undefined;
const cleanup: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  hostOnly?.closeAllConnections();
  await new Promise((r) => (hostOnly ? hostOnly.close(r) : r(undefined)));
  hostOnly = undefined;
  for (const p of cleanup.splice(0)) rmSync(p, { recursive: true, force: true });
});

/** Raw requests the agent sends itself; it prints `name => <first line of the answer>`. */
const PROBE = `
const net = require('net');
const targets = { proxy: new URL(process.env.HTTP_PROXY), broker: new URL(process.env.ANTHROPIC_BASE_URL) };
const big = 'x'.repeat(100 * 1024);
const probes = [
  ['connect-99999', 'CONNECT 127.0.0.1:99999 HTTP/1.1\\r\\nHost: 127.0.0.1:99999\\r\\n\\r\\n'],
  ['connect-no-port', 'CONNECT 127.0.0.1 HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n'],
  ['absolute-99999', 'GET http://127.0.0.1:99999/ HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n'],
  ['huge-header', 'GET http://127.0.0.1/ HTTP/1.1\\r\\nHost: x\\r\\nX-Big: ' + big + '\\r\\n\\r\\n'],
  ['garbage', '\\x00\\xff\\x13\\x37garbage\\r\\n\\r\\n'],
];
const ask = (u, bytes) => new Promise((res) => {
  const s = net.connect(Number(u.port), u.hostname);
  let d = '';
  const end = (v) => { clearTimeout(t); s.destroy(); res(v); };
  const t = setTimeout(() => end('timeout'), 10000);
  s.on('data', (c) => { d += c.toString('latin1'); if (d.includes('\\r\\n')) end(d.split('\\r\\n')[0]); });
  s.on('error', (e) => end('error ' + e.code));
  s.on('close', () => end(d.split('\\r\\n')[0] || 'closed'));
  s.write(Buffer.from(bytes, 'latin1'));
});
(async () => {
  for (const [where, u] of Object.entries(targets)) for (const [name, bytes] of probes) console.log(where + ' ' + name + ' => ' + (await ask(u, bytes)));
})();
`;

const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe.each(PROVIDERS)('egress on the %s provider', (provider) => {
  it('opens the model API host on its port only and answers malformed requests with 4xx; the run completes', { timeout: 240_000 }, async () => {
    const { hostHome, repo, home } = hostFixture();
    cleanup.push(hostHome, repo, home);
    let hits = 0;
    hostOnly = createServer((req, res) => {
      hits += 1;
      res.end('HOST_ONLY_SECRET');
    });
    await new Promise<void>((r) => hostOnly?.listen(0, '127.0.0.1', r));
    const q = (hostOnly.address() as AddressInfo).port;
    const via = `--proxy "$HTTP_PROXY" --noproxy '' -sS -m 15`;
    server = await startModelServer({ scenario: { steps: [] } });
    const apiPort = new URL(server.url).port;
    server.setScenario({
      steps: [
        bash(`curl ${via} -w 'plain=%{http_code}\\n' http://127.0.0.1:${q}/; echo rc=$?`),
        bash(`curl ${via} -p -o /dev/null -w 'tunnel=%{http_connect}\\n' http://127.0.0.1:${q}/; echo rc=$?`),
        // The model API's own port stays open through the proxy (the scripted server answers 404).
        bash(`curl ${via} -o /dev/null -w 'api=%{http_code}\\n' http://127.0.0.1:${apiPort}/; echo rc=$?`),
        { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/probe.cjs', content: PROBE } }] },
        bash('node probe.cjs; rm probe.cjs; echo probed'),
        bash('echo still-here > after.txt; echo ok'),
        { text: 'done' },
      ],
    });
    const env = { ...process.env, HOME: hostHome, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'probe the network', '--json', '--timeout', '5', '--provider', provider], { env });

    const results = server.toolResults().map((t) => t.content);
    const log = `${r.stderr}\n${JSON.stringify(results, null, 1).slice(0, 8000)}`;
    expect(results.length, log).toBe(6);
    const [plain, tunnel, api, , probed, after] = results as [string, string, string, string, string, string];
    // The host-only service on another port of the model API's host: refused both ways, never reached.
    expect(plain, log).toMatch(/plain=403/);
    expect(plain).not.toContain('HOST_ONLY_SECRET');
    expect(tunnel, log).toMatch(/tunnel=403/);
    expect(hits).toBe(0);
    expect(api, log).toMatch(/api=404/);
    // Every malformed request got a 4xx from the proxy and from the broker.
    for (const where of ['proxy', 'broker'])
      for (const name of ['connect-99999', 'connect-no-port', 'absolute-99999', 'huge-header', 'garbage'])
        expect(probed, `${where} ${name}\n${log}`).toMatch(new RegExp(`${where} ${name} => HTTP/1\\.1 4\\d\\d `));
    expect(probed).toMatch(/proxy huge-header => HTTP\/1\.1 431/);
    expect(probed).toContain('probed');
    expect(after).toContain('ok');

    // The CLI survived and its summary is true: completed, the work landed, every denial counted.
    expect(r.code, r.stderr).toBe(0);
    const events = parseNdjson(r.stdout);
    const summary = events.find((e) => e.type === 'summary')?.summary as Record<string, unknown>;
    expect(summary.status).toBe('completed');
    expect(git(repo, 'show', `${String(summary.branch)}:after.txt`)).toBe('still-here');
    const denied = events.filter((e) => e.type === 'egress' && e.allowed === false);
    expect(Number(summary.egressDenied)).toBe(denied.length);
    expect(denied.filter((e) => e.host === '127.0.0.1' && e.port === q).length).toBe(2);
    expect(denied.filter((e) => String(e.reason).startsWith('bad request')).length).toBeGreaterThanOrEqual(5);
    const logged = readFileSync(join(home, 'sessions', String(summary.sessionId), 'egress.ndjson'), 'utf8').trim().split('\n');
    expect(logged.filter((l) => (JSON.parse(l) as { allowed: boolean }).allowed === false).length).toBe(denied.length);
    expect(events.some((e) => e.type === 'egress' && e.port === Number(apiPort) && e.allowed === false)).toBe(false);
  });
});

describe('--allow-domain is validated before anything is created', () => {
  it.each([
    ['bad..host', /bad\.\.host.*not a host name/],
    ['example.com:99999', /port "99999" is not a number from 1 to 65535/],
  ])('%s: exit 2, no registry row, no worktree, no branch (run, --dry-run, --multi)', async (entry, message) => {
    const { hostHome, repo, home } = hostFixture();
    cleanup.push(hostHome, repo, home);
    const env = { ...process.env, HOME: hostHome, PARALLEL_CC_HOME: home, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
    const variants = [
      ['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--allow-domain', entry],
      ['sandbox', 'run', '--repo', repo, '--dry-run', '--allow-domain', entry],
      ['sandbox', 'run', '--repo', repo, '--multi', '--task', 'x', '--allow-domain', 'ok.example.com', '--allow-domain', entry],
    ];
    for (const args of variants) {
      const r = await runCli(args, { env });
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--allow-domain: invalid allowlist entry/);
      expect(r.stderr).toMatch(message);
    }
    // The config's entries too (PARALLEL_CC_NATIVE_ALLOWED_DOMAINS), named as such.
    const conf = await runCli(['sandbox', 'run', '--repo', repo, '--dry-run'], { env: { ...env, PARALLEL_CC_NATIVE_ALLOWED_DOMAINS: entry } });
    expect(conf.code).toBe(2);
    expect(conf.stderr).toMatch(/providers\.native\.allowedDomains/);
    expect(existsSync(join(home, 'coordinator.db'))).toBe(false);
    expect(existsSync(join(home, 'worktrees')) ? readdirSync(join(home, 'worktrees')) : []).toEqual([]);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
  });
});
