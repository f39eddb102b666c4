/**
 * The MCP `dashboard` tool keeps one read model per server: a call reads only what is new (a log by
 * offset, new registry rows), and an ended session's git stat is asked once, not on every call.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Context } from '../../src/core/context.js';
import type { DiffStat } from '../../src/core/dashboard/model.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

const stats = vi.hoisted(() => ({ calls: [] as string[] }));
vi.mock('../../src/core/dashboard/branch.js', async (original) => ({
  ...(await original<typeof import('../../src/core/dashboard/branch.js')>()),
  branchStat: (s: { id: string }): Promise<DiffStat> => {
    stats.calls.push(s.id);
    return Promise.resolve({ files: 2, added: 5, removed: 1, paths: ['a', 'b'] });
  },
}));
const { buildMcpServer } = await import('../../src/mcp/server.js');

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

const edit = (file: string): string => `${JSON.stringify({ type: 'tool_use', id: file, name: 'Edit', input: { file_path: `/workspace/${file}` } })}\n`;
type Model = { rows: Array<{ id: string; step: string | null; added: number | null }> };

describe('MCP dashboard', () => {
  it('reuses one read model across calls: new log lines and sessions show, an ended session is diffed once', async () => {
    const home = tempDir('pcc-mcp-dash-');
    const db = openDb(join(home, 'coordinator.db'));
    const repo = new SessionRepository(db);
    const session = (id: string): string => {
      const dir = join(home, 'sessions', id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'events.ndjson'), edit(`${id}.ts`));
      repo.create({ id, repoPath: home, provider: 'native', status: 'running', pid: process.pid, sessionDir: dir, startedAt: new Date().toISOString() });
      return dir;
    };
    const live = session('aaaa0001');
    session('aaaa0002');
    repo.update('aaaa0002', { status: 'completed', completedAt: new Date().toISOString(), branch: 'parallel-cc/aaaa0002', baseCommit: 'b'.repeat(40) });
    const ctx = { cwd: home, env: {}, home, now: () => new Date(), stdout: { write: () => true }, stderr: { write: () => true }, signal: new AbortController().signal } as Context;
    const [a, b] = InMemoryTransport.createLinkedPair();
    await buildMcpServer(ctx).connect(a);
    client = new Client({ name: 't', version: '1' });
    await client.connect(b);
    const look = async (): Promise<Model> => {
      const r = (await client?.callTool({ name: 'dashboard', arguments: {} })) as { content: Array<{ text: string }> } | undefined;
      return JSON.parse(r?.content[0]?.text ?? 'null') as Model;
    };
    const byId = (m: Model): Record<string, [string | null, number | null]> => Object.fromEntries(m.rows.map((r) => [r.id, [r.step, r.added]]));

    expect(byId(await look())).toEqual({ aaaa0001: ['Edit aaaa0001.ts', null], aaaa0002: ['Edit aaaa0002.ts', 5] });
    // Between calls: the running session's log grows, a new session starts — the next call shows both.
    appendFileSync(join(live, 'events.ndjson'), edit('next.ts'));
    session('aaaa0003');
    db.close();
    expect(byId(await look())).toEqual({ aaaa0001: ['Edit next.ts', null], aaaa0002: ['Edit aaaa0002.ts', 5], aaaa0003: ['Edit aaaa0003.ts', null] });
    await look();
    expect(stats.calls).toEqual(['aaaa0002']);
  });
});
