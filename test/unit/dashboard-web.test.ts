/** The web dashboard's server: loopback only, a token on every request, the SSE stream, no HTML from data. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startWeb, tokenMatches, type WebDashboard } from '../../src/cli/dashboard/web.js';
import { PAGE_JS } from '../../src/cli/dashboard/page.js';
import type { Context } from '../../src/core/context.js';
import { LiveDashboard } from '../../src/core/dashboard/live.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

let web: WebDashboard | undefined;
let live: LiveDashboard | undefined;
afterEach(async () => {
  await web?.close();
  live?.stop();
  [web, live] = [undefined, undefined];
});

function fixture(): { ctx: Context; dir: string } {
  const home = tempDir('pcc-dweb-unit-');
  const dir = join(home, 'sessions', 'beef0001');
  mkdirSync(dir, { recursive: true });
  const db = openDb(join(home, 'coordinator.db'));
  new SessionRepository(db).create({ id: 'beef0001', repoPath: home, provider: 'native', status: 'running', pid: process.pid, sessionDir: dir, startedAt: new Date().toISOString() });
  db.close();
  writeFileSync(join(dir, 'events.ndjson'), `${JSON.stringify({ type: 'tool_use', id: 't', name: 'Bash', input: { command: '<img src=x onerror=alert(1)>' } })}\n`);
  const ctx = { cwd: home, env: {}, home, now: () => new Date(), stdout: { write: () => true }, stderr: { write: () => true }, signal: new AbortController().signal } as Context;
  return { ctx, dir };
}

const get = (url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> =>
  new Promise((ok, fail) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });

describe('web dashboard server', () => {
  it('binds 127.0.0.1, needs the token everywhere (401), refuses a foreign Host (403), sets the CSP', async () => {
    const { ctx } = fixture();
    live = new LiveDashboard(ctx);
    live.start();
    web = await startWeb(live, ctx, { downloadDir: ctx.cwd });
    const u = new URL(web.url);
    expect(u.hostname).toBe('127.0.0.1');
    const token = u.searchParams.get('token') ?? '';
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const wrong = `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`;
    for (const p of ['/', '/app.js', '/api/model', '/api/events', '/api/session/beef0001']) {
      expect((await get(`${u.origin}${p}`)).status, p).toBe(401);
      expect((await get(`${u.origin}${p}?token=${wrong}`)).status, p).toBe(401);
    }
    expect((await get(web.url, { host: `evil.example:${web.port}` })).status).toBe(403);
    const page = await get(web.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe("default-src 'self'");
    expect(page.body).not.toMatch(/<script>|<style>|https?:\/\//);
    const model = JSON.parse((await get(`${u.origin}/api/model?token=${token}`)).body) as { rows: Array<{ step: string }> };
    // Data stays data: the page puts it in textContent only.
    expect(model.rows[0]?.step).toBe('Bash <img src=x onerror=alert(1)>');
    expect(PAGE_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  it('streams a new model over SSE when a session log grows', async () => {
    const { ctx, dir } = fixture();
    live = new LiveDashboard(ctx, { tickMs: 60_000 });
    live.start();
    web = await startWeb(live, ctx, { downloadDir: ctx.cwd });
    const frames: string[] = [];
    const res = await new Promise<import('node:http').IncomingMessage>((ok) => request(web?.url.replace('/?', '/api/events?') ?? '', ok).end());
    res.on('data', (d: Buffer) => frames.push(d.toString()));
    await expect.poll(() => frames.join(''), { timeout: 10_000 }).toContain('onerror');
    writeFileSync(join(dir, 'events.ndjson'), `${JSON.stringify({ type: 'tool_use', id: 'u', name: 'Edit', input: { file_path: '/workspace/next.ts' } })}\n`, { flag: 'a' });
    await expect.poll(() => frames.join(''), { timeout: 10_000 }).toContain('Edit next.ts');
    res.destroy();
  });

  it('compares tokens in constant time over equal-length digests', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches(null, 'abc')).toBe(false);
  });
});
