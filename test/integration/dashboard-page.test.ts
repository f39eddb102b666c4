/**
 * The web dashboard's page script in headless Chromium over a registry of our own (no agents): a
 * row is made once per session and updated in place — the same element across updates, so a click
 * between two SSE frames never lands on a detached row — new sessions get a row, gone ones lose it.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { startWeb, type WebDashboard } from '../../src/cli/dashboard/web.js';
import type { Context } from '../../src/core/context.js';
import { LiveDashboard } from '../../src/core/dashboard/live.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

let browser: Browser | undefined;
let web: WebDashboard | undefined;
let live: LiveDashboard | undefined;
afterEach(async () => {
  await browser?.close();
  await web?.close();
  live?.stop();
  [browser, web, live] = [undefined, undefined, undefined];
});

const event = (name: string, file: string): string => `${JSON.stringify({ type: 'tool_use', id: file, name, input: { file_path: `/workspace/${file}` } })}\n`;

/** A registry with running sessions owned by this (live) process, each with an event log. */
function registry(ids: string[]): { home: string; add: (id: string) => string; remove: (id: string) => void } {
  const home = tempDir('pcc-dpage-');
  const add = (id: string): string => {
    const dir = join(home, 'sessions', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'events.ndjson'), event('Edit', `${id}.ts`));
    const db = openDb(join(home, 'coordinator.db'));
    new SessionRepository(db).create({ id, repoPath: home, provider: 'native', status: 'running', pid: process.pid, sessionDir: dir, startedAt: new Date().toISOString() });
    db.close();
    return dir;
  };
  const remove = (id: string): void => {
    const db = openDb(join(home, 'coordinator.db'));
    db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
    db.close();
  };
  for (const id of ids) add(id);
  return { home, add, remove };
}

async function open(home: string): Promise<Page> {
  const ctx = { cwd: home, env: {}, home, now: () => new Date(), stdout: { write: () => true }, stderr: { write: () => true }, signal: new AbortController().signal } as Context;
  // A fast tick: the registry (rows added and removed) is re-read often; log lines come by fs.watch.
  live = new LiveDashboard(ctx, { tickMs: 200 });
  live.start();
  web = await startWeb(live, ctx, { downloadDir: home });
  browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
  const page = await browser.newPage();
  await page.goto(web.url);
  return page;
}

describe('web dashboard page rows', () => {
  it('keeps each row element across updates (same node), adds rows for new sessions and removes rows of gone ones', async () => {
    const reg = registry(['beef0001', 'beef0002']);
    const page = await open(reg.home);
    // This project's tsconfig has no DOM types: page code is given as text.
    const js = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
    const ids = (): Promise<string[]> => js(`[...document.querySelectorAll('#rows tr')].map((e) => e.dataset.id).sort()`);
    const step = (id: string): Promise<string> => js(`document.querySelector('#rows tr[data-id="${id}"] td.step')?.textContent ?? ''`);
    await expect.poll(ids, { timeout: 30_000, interval: 100 }).toEqual(['beef0001', 'beef0002']);
    await js(`window.kept = document.querySelector('#rows tr[data-id="beef0001"]'); window.keptCell = window.kept.querySelector('td.step')`);

    // An update of that row (its log grew): the text changes, the element does not.
    appendFileSync(join(reg.home, 'sessions', 'beef0001', 'events.ndjson'), event('Write', 'next.ts'));
    await expect.poll(() => step('beef0001'), { timeout: 30_000, interval: 100 }).toBe('Write next.ts');
    expect(await js(`document.querySelector('#rows tr[data-id="beef0001"]') === window.kept && window.kept.isConnected && window.kept.querySelector('td.step') === window.keptCell`)).toBe(true);

    // A new session gets a row; a session gone from the registry loses its row; the kept one stays.
    reg.add('beef0003');
    await expect.poll(ids, { timeout: 30_000, interval: 100 }).toEqual(['beef0001', 'beef0002', 'beef0003']);
    reg.remove('beef0002');
    await expect.poll(ids, { timeout: 30_000, interval: 100 }).toEqual(['beef0001', 'beef0003']);
    expect(await js(`document.querySelector('#rows tr[data-id="beef0001"]') === window.kept`)).toBe(true);

    // A click on the kept row (still the same element after all those updates) selects it.
    const row = await page.waitForSelector('#rows tr[data-id="beef0001"]', { visible: true });
    await row?.click();
    await page.waitForSelector('#detail[data-id="beef0001"]', { timeout: 30_000 });
    expect(await js(`window.kept.classList.contains('selected') && document.querySelectorAll('#rows tr.selected').length === 1`)).toBe(true);
  }, 120_000);
});
