/**
 * The web dashboard in headless Chromium (puppeteer-core, Debian's /usr/bin/chromium) while a
 * `--multi` of 4 real tasks (real claude, scripted model server) runs in another process: 4 rows,
 * states that advance to completed without a reload, the fleet cost = the sum of the rows, one
 * session's diff rendered; no token → 401. Screenshots: test-artifacts/dashboard-web-{running,finished}.png.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { startModelServer, type ModelServer, type ScenarioStep } from '../fixtures/model-server/server.js';
import { startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const KEY = `sk-ant-web-${'w'.repeat(24)}`;
const NAMES = ['alpha', 'beta', 'gamma', 'delta'];
// The agent waits in its sandbox until the test drops a file in the sandbox's home (a barrier, not a sleep).
const GATE = 'while [ ! -e "$HOME/go" ]; do sleep 0.1; done; echo released';
const task = (name: string): ScenarioStep[] => [
  { toolUses: [{ name: 'Write', input: { file_path: `{{cwd}}/${name}.txt`, content: `${name} was here\n` } }] },
  { toolUses: [{ name: 'Bash', input: { command: GATE, timeout: 600000 } }] },
  { text: 'done', usage: { input_tokens: 1000, output_tokens: 200 } },
];

let server: ModelServer | undefined;
let browser: Browser | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
  await server?.close();
  server = undefined;
});

describe('web dashboard in a browser', () => {
  it('shows a live --multi of 4 from another process: rows advance to completed, cost adds up, a diff renders; no token is 401', async () => {
    server = await startModelServer({ scenario: { steps: [{ text: 'done' }], byPrompt: Object.fromEntries(NAMES.map((n) => [`task ${n}`, task(n)])) } });
    const repo = makeRepo({ 'README.md': '# web\n' });
    const home = tempDir('pcc-dweb-home-');
    const out = join(tempDir('pcc-dweb-out-'), 'results');
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1' };

    const dash = startCli(['dashboard', '--web'], { env });
    cleanups.push(async () => {
      dash.child.kill('SIGTERM');
      await dash.done;
    });
    let dashOut = '';
    dash.child.stdout?.on('data', (d: Buffer) => (dashOut += d.toString()));
    await expect.poll(() => /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}\n/.test(dashOut), { timeout: 20_000, interval: 50 }).toBe(true);
    const url = dashOut.trim();
    const u = new URL(url);
    // Every request needs the token: the page, the API, the event stream.
    for (const path of ['/', '/app.js', '/api/model', '/api/events', `/api/events?token=${'0'.repeat(64)}`]) expect((await fetch(new URL(path, u.origin))).status, path).toBe(401);
    const page0 = await fetch(url);
    expect(page0.status).toBe(200);
    expect(page0.headers.get('content-security-policy')).toBe("default-src 'self'");

    const batch = startCli(['sandbox', 'run', '--repo', repo, '--multi', '--max-concurrent', '4', '--output-dir', out, '--json', ...NAMES.flatMap((n) => ['--task', `task ${n}`])], { env });
    cleanups.push(async () => {
      batch.child.kill('SIGTERM');
      const r = await batch.done;
      for (const wt of git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).slice(1)) git(repo, 'worktree', 'remove', '--force', wt.slice(9));
      return r;
    });

    browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
    const page = await browser.newPage();
    await page.setViewport({ width: 1500, height: 900 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    // In the page (this project's tsconfig has no DOM types: page code is given as text).
    const js = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
    const attrs = (sel: string, name: string): Promise<string[]> => js(`[...document.querySelectorAll(${JSON.stringify(sel)})].map((e) => e.getAttribute(${JSON.stringify(name)}) ?? '')`);
    const texts = (sel: string): Promise<string[]> => js(`[...document.querySelectorAll(${JSON.stringify(sel)})].map((e) => e.textContent ?? '')`);
    await js('window.notReloaded = true');
    const states = (): Promise<string[]> => attrs('#rows tr', 'data-state');
    await expect.poll(states, { timeout: 120_000, interval: 250 }).toEqual(['running', 'running', 'running', 'running']);
    // All four agents wait at their gate now (their step says so).
    await expect.poll(() => texts('#rows td.step'), { timeout: 60_000, interval: 250 }).toEqual(NAMES.map(() => `Bash ${GATE}`));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-web-running.png'), fullPage: true });

    const db = openDb(join(home, 'coordinator.db'));
    const sessions = new SessionRepository(db).list();
    db.close();
    expect(sessions).toHaveLength(4);
    for (const s of sessions) writeFileSync(join(String(s.sandboxDir), 'home', 'go'), '');

    await expect.poll(states, { timeout: 120_000, interval: 250 }).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(await js('window.notReloaded')).toBe(true);
    const costs = (await attrs('#rows td.cost', 'data-usd')).map(Number);
    const [fleet] = (await attrs('#fleet-cost', 'data-usd')).map(Number);
    expect(costs.every((c) => c > 0)).toBe(true);
    expect(fleet).toBeCloseTo(costs.reduce((a, b) => a + b, 0), 6);

    // One session's diff against its base, rendered.
    const first = sessions.find((s) => s.taskId === 'task-1') ?? sessions[0];
    // Wait for the row to be there and visible, then click it (rows are updated in place, never replaced).
    const row = await page.waitForSelector(`#rows tr[data-id="${String(first?.id)}"]`, { visible: true, timeout: 30_000 });
    await row?.click();
    await page.waitForSelector(`#detail[data-id="${String(first?.id)}"] #diff div.add`, { timeout: 30_000 });
    const diff = await texts('#diff div');
    expect(diff).toContain('+alpha was here');
    expect(diff.some((l) => l.startsWith('diff --git a/alpha.txt b/alpha.txt'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-web-finished.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect((await batch.done).code).toBe(0);
  }, 300_000);
});
