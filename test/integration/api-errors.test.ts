/**
 * Model API errors with the real claude binary (issue #15, defect 1): retries are shown as they
 * happen, a refused key or an API that never answers ends the run at once with a hint, transient
 * server errors are retried through, and doctor makes one authenticated call through the broker.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type Failure, type ModelServer } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';

const KEY = `sk-ant-apierr-${'a'.repeat(24)}`;
let server: ModelServer | undefined;
const made: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function setup(opts: { failure?: Failure; baseUrl?: string } = {}): Promise<{ repo: string; env: NodeJS.ProcessEnv }> {
  let url = opts.baseUrl;
  if (!url) {
    server = await startModelServer({ scenario: { steps: [{ text: 'all good' }] }, ...(opts.failure ? { failure: opts.failure } : {}) });
    url = server.url;
  }
  const repo = makeRepo();
  const home = tempDir('pcc-apierr-home-');
  made.push(repo, home);
  return { repo, env: { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1' } };
}

type Json = Record<string, unknown>;
const summaryOf = (events: Json[]): Json => (events.find((e) => e.type === 'summary')?.summary ?? {}) as Json;

describe('model API errors (real claude binary)', () => {
  it('nothing listening: retries are streamed within seconds and the run fails as unreachable long before --timeout', async () => {
    const { repo, env } = await setup({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const started = Date.now();
    const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hi', '--json', '--timeout', '10'], { env });
    let firstRetryAt: number | undefined;
    let running: number | undefined;
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      running ??= buf.includes('"phase":"running"') ? Date.now() : undefined;
      if (firstRetryAt === undefined && buf.includes('"type":"api_retry"')) firstRetryAt = Date.now();
    });
    const r = await done;
    const elapsed = Date.now() - started;
    const events = parseNdjson(r.stdout);
    const retries = events.filter((e) => e.type === 'api_retry');
    expect(retries.length).toBeGreaterThanOrEqual(3);
    // Behind the broker the agent sees a 502; the event says what really happened.
    expect(retries[0]).toMatchObject({ attempt: 1, status: null, error: expect.stringMatching(/ECONNREFUSED/) as unknown, delayMs: expect.any(Number) as unknown });
    expect(firstRetryAt! - running!).toBeLessThan(10_000);
    const s = summaryOf(events);
    expect(s).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(String(s.error)).toMatch(/the model API is unreachable .*ECONNREFUSED.*attempts in a row got no answer/);
    expect(String(s.hint)).toMatch(/ANTHROPIC_BASE_URL/);
    expect(r.code).toBe(1);
    // claude alone retries for minutes; the run must not wait for that (or for the 10-minute timeout).
    expect(elapsed).toBeLessThan(60_000);
  }, 120_000);

  it('401: fails fast with the reason and a hint about the key, retries shown on stderr', async () => {
    const { repo, env } = await setup({ failure: { status: 401 } });
    const started = Date.now();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hi', '--timeout', '10'], { env });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/⟳ model API answered 401 \(authentication_failed\); retry 1\/\d+ in \d+\.\ds/);
    expect(r.stderr).toMatch(/error: the model API rejected the key \(401\)/);
    expect(r.stderr).toMatch(/hint: Check ANTHROPIC_API_KEY .*--auth-method oauth/);
    expect(r.stdout).toMatch(/FAILED/);
  }, 60_000);

  it('403 (claude gives up at once): the same reason and hint', async () => {
    const { repo, env } = await setup({ failure: { status: 403 } });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hi', '--json', '--timeout', '10'], { env });
    expect(r.code).toBe(1);
    const s = summaryOf(parseNdjson(r.stdout));
    expect(s).toMatchObject({ status: 'failed', error: 'the model API rejected the key (403)', hint: expect.stringMatching(/ANTHROPIC_API_KEY/) as unknown });
  }, 60_000);

  it('500 twice, then answers: both retries are shown and the run completes', async () => {
    const { repo, env } = await setup({ failure: { status: 500, times: 2 } });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hi', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const events = parseNdjson(r.stdout);
    const retries = events.filter((e) => e.type === 'api_retry');
    expect(retries.map((e) => [e.attempt, e.status])).toEqual([
      [1, 500],
      [2, 500],
    ]);
    expect(typeof retries[0]?.ts).toBe('string');
    expect(summaryOf(events).status).toBe('completed');
  }, 90_000);

  it('doctor makes one authenticated call through the broker: ok, 401, unreachable', async () => {
    const { env } = await setup();
    const check = async (extra: NodeJS.ProcessEnv): Promise<{ code: number | null; api: Json | undefined }> => {
      const r = await runCli(['doctor', '--json'], { env: { ...env, ...extra } });
      return { code: r.code, api: (JSON.parse(r.stdout) as { checks: Json[] }).checks.find((c) => c.name === 'model API') };
    };
    const ok = await check({});
    expect(ok.api).toMatchObject({ ok: true, required: true, detail: expect.stringMatching(/accepted the key/) as unknown });
    // The broker injected the real key; the probe itself carried only a placeholder.
    const probe = server?.requests.find((q) => q.url === '/v1/messages');
    expect(probe?.headers['x-api-key']).toBe(KEY);
    server?.setFailure({ status: 401 });
    const refused = await check({});
    expect(refused.api).toMatchObject({ ok: false, detail: expect.stringMatching(/rejected the key \(401: scripted 401\)/) as unknown });
    expect(refused.code).toBe(1);
    const gone = await check({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(gone.api).toMatchObject({ ok: false, detail: expect.stringMatching(/^unreachable \(.*ECONNREFUSED/) as unknown });
  }, 60_000);
});
