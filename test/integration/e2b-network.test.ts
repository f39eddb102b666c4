/**
 * The model API key stays out of the E2B sandbox: the agent gets a placeholder, the session's E2B
 * network config (enforced by the emulator's egress firewall, as E2B's egress proxy does) injects
 * the real key for the model API host, and denies everything but the model API and --allow-domain
 * hosts. The env-var path only behind providers.e2b.keyInSandbox, with a warning.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { bash, useE2B } from '../helpers/e2b.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';

const e2b = useE2B();
const REAL = `sk-ant-real-${'r'.repeat(20)}-net`;
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((ok) => s.close(ok));
});

/** A plain HTTP server on `host` that records the requests it got. */
async function listen(host: string, port = 0): Promise<{ port: number; got: http.IncomingHttpHeaders[] }> {
  const got: http.IncomingHttpHeaders[] = [];
  const s = http.createServer((req, res) => {
    got.push(req.headers);
    res.end(`hello from ${host}`);
  });
  servers.push(s);
  await new Promise<void>((ok) => s.listen(port, host, ok));
  return { port: (s.address() as AddressInfo).port, got };
}

// Runs in the sandbox: looks for the real key (given reversed, so its bytes are in no argv) in its
// own env, every process's environ and cmdline, and every file it can read outside /usr and /proc.
// The agent's placeholder (its ANTHROPIC_API_KEY) must be found: proof that the scan sees the agent.
const SCAN = `const fs = require('fs'); const path = require('path');
const real = Buffer.from(process.argv[2], 'hex').reverse();
const ph = Buffer.from(process.env.ANTHROPIC_API_KEY || 'none');
const hits = []; let seen = 0; let phHits = 0;
const check = (name, buf) => { seen++; if (buf.includes(real)) hits.push(name); if (buf.includes(ph)) phHits++; };
check('env', Buffer.from(JSON.stringify(process.env)));
for (const p of fs.readdirSync('/proc')) if (/^\\d+$/.test(p)) for (const f of ['environ', 'cmdline']) { try { check('/proc/' + p + '/' + f, fs.readFileSync('/proc/' + p + '/' + f)); } catch {} }
const walk = (d) => { let es; try { es = fs.readdirSync(d, { withFileTypes: true }); } catch { return; } for (const e of es) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (e.isFile()) { try { if (fs.statSync(p).size < 64e6) check(p, fs.readFileSync(p)); } catch {} } } };
for (const d of ['/home', '/tmp', '/run', '/opt', '/etc', '/root', '/var']) walk(d);
console.log('SCAN real=' + hits.length + ' placeholder=' + phHits + ' seen=' + seen + ' ' + hits.join(','));
`;

describe('e2b: the API key stays out of the sandbox', () => {
  it('gives the agent a placeholder, injects the real key for the model API only, refuses a host not allowlisted and lets an allowlisted one through', async () => {
    const allowed = await listen('127.0.0.2');
    const refused = await listen('127.0.0.3', allowed.port);
    const reversed = Buffer.from(REAL).reverse().toString('hex');
    const server = await e2b.serve({
      steps: [
        { toolUses: [{ name: 'Write', input: { file_path: '/tmp/scan.js', content: SCAN } }] },
        bash(`node /tmp/scan.js ${reversed}`),
        bash(`curl -s -m 10 http://127.0.0.2:${allowed.port}/; echo " allowed-exit=$?"`),
        bash(`curl -s -m 10 -o /dev/null -w 'refused-code=%{http_code}' http://127.0.0.3:${allowed.port}/; echo " refused-exit=$?"`),
        { text: 'done' },
      ],
    });
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'check', '--provider', 'e2b', '--skip-claude-update', '--allow-domain', `127.0.0.2:${allowed.port}`, '--json'], {
      env: e2b.env(home, { ANTHROPIC_API_KEY: REAL }),
    });
    expect(r.code, r.stderr).toBe(0);
    const out = server.toolResults().map((t) => t.content).join('\n');
    // The scan saw the agent (its placeholder) and nowhere the real key.
    expect(out).toMatch(/SCAN real=0 placeholder=[1-9]\d* seen=\d{2,}/);
    expect(out).toContain('hello from 127.0.0.2 allowed-exit=0');
    expect(out).toContain('refused-code=403');
    expect(refused.got).toHaveLength(0);
    // The allowlisted host got the request, without the key (the rule is for the model API host only).
    expect(allowed.got.length).toBeGreaterThan(0);
    expect(JSON.stringify(allowed.got)).not.toContain(REAL);
    // The model API got the real key on every request, never the placeholder.
    const keys = new Set(server.requests.map((q) => q.headers['x-api-key']));
    expect([...keys]).toEqual([REAL]);
    const id = String(parseNdjson(r.stdout).find((e) => typeof e.sessionId === 'string')?.sessionId);
    const sbx = e2b.sandboxOf(id);
    expect(sbx?.network).toMatchObject({ denyOut: ['0.0.0.0/0'], allowOut: ['127.0.0.1', '127.0.0.2'] });
    expect(sbx?.egress.some((x) => x.host === '127.0.0.3' && !x.allowed)).toBe(true);
    expect(sbx?.egress.some((x) => x.host === '127.0.0.1' && x.allowed && x.injected.includes('x-api-key'))).toBe(true);
    // Nothing the SDK sent to envd carried the real key (commands, their envs, uploads).
    const mine = e2b.emulator().commands.filter((c) => c.sandboxId === sbx?.sandboxId);
    expect(mine.length).toBeGreaterThan(0);
    expect(JSON.stringify(mine)).not.toContain(REAL);
    expect(mine.some((c) => /^sk-ant-pcc-/.test(c.envs.ANTHROPIC_API_KEY ?? ''))).toBe(true);
    expect(e2b.emulator().uploads.filter((u) => u.sandboxId === sbx?.sandboxId).some((u) => u.data.includes(REAL))).toBe(false);
  });

  it('keyInSandbox gives the agent the real key as an env var, with a warning, and no network config; doctor says which protection is in force', async () => {
    // The same scan finds the key here: proof that it would have found a leak above.
    const server = await e2b.serve({ steps: [{ toolUses: [{ name: 'Write', input: { file_path: '/tmp/scan.js', content: SCAN } }] }, bash(`node /tmp/scan.js ${Buffer.from(REAL).reverse().toString('hex')}`), { text: 'done' }] });
    const home = tempDir();
    const env = e2b.env(home, { ANTHROPIC_API_KEY: REAL, PARALLEL_CC_E2B_KEY_IN_SANDBOX: '1' });
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'check', '--provider', 'e2b', '--skip-claude-update', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(server.toolResults().map((t) => t.content).join('\n')).toMatch(/SCAN real=[1-9]/);
    const events = parseNdjson(r.stdout);
    expect(events.some((e) => e.type === 'warning' && /real API key is inside the cloud sandbox/.test(String(e.message)))).toBe(true);
    const sbx = e2b.sandboxOf(String(events.find((e) => typeof e.sessionId === 'string')?.sessionId));
    expect(sbx?.network).toBeUndefined();
    // The key itself is redacted from the CLI's output; the emulator saw it in the agent's env.
    expect(e2b.emulator().commands.some((c) => c.sandboxId === sbx?.sandboxId && c.envs.ANTHROPIC_API_KEY === REAL)).toBe(true);
    const detail = async (extra: NodeJS.ProcessEnv): Promise<string> => {
      const d = await runCli(['doctor', '--json'], { env: e2b.env(home, extra) });
      const checks = (JSON.parse(d.stdout) as { checks: Array<{ name: string; detail: string }> }).checks;
      return checks.find((c) => c.name === 'e2b key protection')?.detail ?? '';
    };
    expect(await detail({ PARALLEL_CC_E2B_KEY_IN_SANDBOX: '1' })).toMatch(/^key in the sandbox/);
    expect(await detail({})).toMatch(/^E2B network rules: the agent holds a placeholder/);
  });

  it('sandbox health of a live E2B session says which key protection is in force, from the sandbox itself', async () => {
    const home = tempDir();
    const id = await e2b.killedMidRun(home, makeRepo());
    const health = await runCli(['sandbox', 'health', '--session-id', id, '--json'], { env: e2b.env(home) });
    expect(health.code, health.stderr).toBe(0);
    expect((JSON.parse(health.stdout) as { keyProtection?: string }).keyProtection).toMatch(/^E2B network rules: the agent holds a placeholder/);
    const human = await runCli(['sandbox', 'health', '--session-id', id], { env: e2b.env(home) });
    expect(human.stdout).toMatch(/^API key +E2B network rules/m);
    const kill = await runCli(['sandbox', 'kill', '--session-id', id, '--json'], { env: e2b.env(home) });
    expect(kill.code, kill.stderr).toBe(0);
  });

  it('refuses to run when E2B drops the network rules (a deployment without them): clear error, keyInSandbox hint, sandbox killed', async () => {
    await e2b.serve({ steps: [{ text: 'never' }] });
    e2b.emulator().networkRules(false);
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'e2b', '--skip-claude-update'], { env: e2b.env(home, { ANTHROPIC_API_KEY: REAL }) });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/E2B did not apply the network rules/);
    expect(r.stderr).toMatch(/PARALLEL_CC_E2B_KEY_IN_SANDBOX=1/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const sandboxes = e2b.emulator().sandboxes();
    expect(sandboxes.at(-1)?.state).toBe('killed');
    expect(e2b.emulator().commands.filter((c) => c.sandboxId === sandboxes.at(-1)?.sandboxId)).toEqual([]);
  });
});

