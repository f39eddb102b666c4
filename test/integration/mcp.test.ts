/**
 * The MCP server through the official SDK client over stdio (`parallel-cc mcp-serve` as a child):
 * it lists its tools, starts a real native sandbox run (real claude, scripted model server), reads
 * its status until it completes, downloads the result and previews a merge — and reports bad input
 * as tool errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
let server: ModelServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

type Content = Array<{ type: string; text: string }>;
const json = (r: unknown): Record<string, unknown> => JSON.parse((r as { content: Content }).content[0]?.text ?? 'null') as Record<string, unknown>;

describe('parallel-cc mcp-serve', () => {
  it('lists its tools, starts a sandbox run, follows it to completion and downloads the result', async () => {
    server = await startModelServer({ scenario: { steps: [{ toolUses: [{ name: 'Write', input: { file_path: '/workspace/from-mcp.txt', content: 'made through MCP\n' } }] }, { text: 'done' }] } });
    const repo = makeRepo({ 'README.md': '# r\n' });
    const env = { ...process.env, PARALLEL_CC_HOME: tempDir('pcc-mcp-home-'), ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-mcp-${'m'.repeat(20)}` } as Record<string, string>;
    client = new Client({ name: 'parallel-cc-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp-serve'], env, cwd: repo }));

    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['check_conflicts', 'check_session_conflicts', 'dashboard', 'list_sessions', 'my_session', 'sandbox_download', 'sandbox_kill', 'sandbox_logs', 'sandbox_status', 'start_sandbox_run']);

    const started = json(await client.callTool({ name: 'start_sandbox_run', arguments: { prompt: 'create from-mcp.txt', repo } }));
    const sessionId = String(started.sessionId);
    expect(sessionId).toMatch(/^[0-9a-f]{8}$/);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 200 && status.status !== 'completed'; i++) {
      status = json(await client.callTool({ name: 'sandbox_status', arguments: { sessionId } }));
      if (status.status !== 'completed') await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toMatchObject({ id: sessionId, status: 'completed', commits: 1 });

    const out = join(tempDir('pcc-mcp-dl-'), 'out');
    const dl = json(await client.callTool({ name: 'sandbox_download', arguments: { sessionId, output: out } }));
    expect(dl.files).toEqual(['from-mcp.txt']);
    expect(readFileSync(join(out, 'from-mcp.txt'), 'utf8')).toBe('made through MCP\n');

    const merge = json(await client.callTool({ name: 'check_conflicts', arguments: { sessionId, base: 'main' } }));
    expect(merge).toMatchObject({ clean: true, conflicts: [] });
    const across = json(await client.callTool({ name: 'check_session_conflicts', arguments: { repo, base: 'main' } }));
    expect(across).toMatchObject({ base: 'main', branches: [{ sessionId, cleanWithBase: true, files: ['from-mcp.txt'] }], pairs: [] });
    const logs = (await client.callTool({ name: 'sandbox_logs', arguments: { sessionId, tail: 5 } })) as { content: Content };
    expect(logs.content[0]?.text).toContain('summary');
    const listed = json(await client.callTool({ name: 'list_sessions', arguments: { repo, all: true } }));
    expect(listed.total).toBe(1);
    const board = json(await client.callTool({ name: 'dashboard', arguments: {} })) as { fleet: Record<string, unknown>; rows: Array<Record<string, unknown>> };
    expect(board.fleet).toMatchObject({ done: 1, running: 0 });
    expect(board.rows).toEqual([expect.objectContaining({ id: sessionId, state: 'completed', filesChanged: 1, added: 1, removed: 0, commits: 1 })]);

    // Bad input is a tool error, not a crash.
    const bad = (await client.callTool({ name: 'sandbox_status', arguments: { sessionId: '../etc' } })) as { isError?: boolean; content: Content };
    expect(bad.isError).toBe(true);
    const missing = (await client.callTool({ name: 'sandbox_status', arguments: { sessionId: 'deadbeef' } })) as { isError?: boolean; content: Content };
    expect(missing.isError).toBe(true);
    expect(missing.content[0]?.text).toMatch(/no session deadbeef/);
  });
});
