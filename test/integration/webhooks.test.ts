/**
 * Webhooks end to end with a local receiver: the configured events arrive in order, signed
 * (HMAC-SHA256 over the exact body), without the prompt or any secret; formats (github's
 * repository_dispatch body, slack text) and event filters from the config file; a receiver that
 * answers 500 then 200 gets one retry; a dead receiver delays the run by at most about a second;
 * every attempt is in `sandbox logs --webhooks`; --multi ends with batch_finished.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli, summaryOf } from '../helpers/cli.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
});

/** A receiver: `/flaky` answers 500 the first time, `/hang` never answers, anything else 200. */
async function receiver(): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  let flaky = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (path === '/hang') return;
      got.push({ path, headers: req.headers, body });
      if (path === '/flaky' && flaky++ === 0) return void res.writeHead(500).end('try again');
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

const SECRET = 'whsec-test-secret-value';
const TOKEN = `ghp_${'t'.repeat(36)}`;
const env = (home: string): NodeJS.ProcessEnv => ({ ...process.env, PARALLEL_CC_HOME: home, PARALLEL_CC_WEBHOOK_SECRET: SECRET, GITHUB_TOKEN: TOKEN, NO_COLOR: '1' });
const run = (repo: string, extra: string[]) => ['sandbox', 'run', '--repo', repo, '--prompt', 'PRIVATE PROMPT TEXT', '--agent-cli', 'command', '--json', ...extra];

describe('webhooks', () => {
  it('--webhook: created, started, completed in order, signed over the exact body, no prompt and no secret; sandbox logs --webhooks shows each attempt', async () => {
    const rx = await receiver();
    const home = tempDir();
    const repo = makeRepo();
    const r = await runCli(run(repo, ['--agent-command', `sh -c "echo ${TOKEN} > t.txt"`, '--webhook', `${rx.url}/hook?token=abc`]), { env: env(home) });
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(rx.got.map((g) => g.headers['x-parallel-cc-event'])).toEqual(['created', 'started', 'completed']);
    for (const g of rx.got) {
      expect(g.headers['x-parallel-cc-signature-256']).toBe(`sha256=${createHmac('sha256', SECRET).update(g.body).digest('hex')}`);
      expect(g.body).not.toContain('PRIVATE PROMPT');
      expect(g.body).not.toContain(TOKEN);
      expect(g.body).not.toContain(SECRET);
    }
    const done = JSON.parse(rx.got[2]?.body ?? '{}') as Record<string, unknown>;
    expect(done).toMatchObject({ event: 'completed', sessionId: s.sessionId, status: 'completed', exitCode: 0, commits: 1, filesChanged: 1, branch: s.branch, agent: 'command' });
    const logs = await runCli(['sandbox', 'logs', String(s.sessionId), '--webhooks'], { env: env(home) });
    expect(logs.stdout.trim().split('\n')).toHaveLength(3);
    expect(logs.stdout).toMatch(/ completed → http:\/\/127\.0\.0\.1:\d+\/hook attempt 1: delivered \(200, \d+ ms\)/);
    expect(logs.stdout).not.toContain('token=abc');
  });

  it('config webhooks: event filters, the github and slack formats, one retry after a 500; --multi ends with batch_finished', async () => {
    const rx = await receiver();
    const home = tempDir();
    writeFiles(home, {
      'sandbox.json': JSON.stringify({
        webhooks: [
          { url: `${rx.url}/gh`, events: ['failed', 'batch_finished'], format: 'github' },
          { url: `${rx.url}/slack`, events: ['completed'], format: 'slack' },
          { url: `${rx.url}/flaky`, events: ['completed'], secret: 's' },
        ],
      }),
    });
    const repo = makeRepo();
    const out = tempDir('pcc-wh-multi-');
    const r = await runCli(['sandbox', 'run', '--multi', '--repo', repo, '--task', 'ok', '--task', 'bad', '--agent-command', 'sh -c "grep -q ok || exit 4"', '--agent-cli', 'command', '--output-dir', out, '--json'], { env: env(home) });
    expect(r.code).toBe(1);
    const gh = rx.got.filter((g) => g.path === '/gh').map((g) => JSON.parse(g.body) as { event_type: string; client_payload: Record<string, unknown> });
    expect(gh.map((g) => g.event_type)).toEqual(['parallel-cc.failed', 'parallel-cc.batch_finished']);
    expect(gh[0]?.client_payload).toMatchObject({ status: 'failed', reason: 'agent_failed' });
    expect(gh[1]?.client_payload).toMatchObject({ exitCode: 1, counts: { completed: 1, failed: 1 } });
    const slack = rx.got.filter((g) => g.path === '/slack').map((g) => JSON.parse(g.body) as { text: string });
    expect(slack).toHaveLength(1);
    expect(slack[0]?.text).toMatch(/^parallel-cc session \w+ completed/);
    // 500, then 200: the same delivery twice.
    const flaky = rx.got.filter((g) => g.path === '/flaky');
    expect(flaky).toHaveLength(2);
    expect(flaky[0]?.headers['x-parallel-cc-delivery']).toBe(flaky[1]?.headers['x-parallel-cc-delivery']);
  });

  it('a receiver that never answers delays the end of the run by about a second at most, and the abandonment is logged', async () => {
    const rx = await receiver();
    const home = tempDir();
    const { child, done } = startCli(run(makeRepo(), ['--agent-command', 'true', '--webhook', `${rx.url}/hang`]), { env: env(home) });
    let summaryAt = 0;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!summaryAt && out.includes('"type":"summary"')) summaryAt = Date.now();
    });
    const r = await done;
    const exitAt = Date.now();
    expect(r.code, r.stderr).toBe(0);
    expect(exitAt - summaryAt).toBeLessThan(1_800);
    const logs = await runCli(['sandbox', 'logs', String(summaryOf(r.stdout).sessionId), '--webhooks'], { env: env(home) });
    expect(logs.stdout).toMatch(/deliveries still pending after 1000 ms were abandoned/);
  });
});
