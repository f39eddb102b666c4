/**
 * `parallel-cc dashboard` over real native sessions of another CLI process (real claude, scripted
 * model server): `--json --once` prints the read model, and a SIGKILLed CLI's session turns
 * `orphaned` within 5 s in a live `dashboard --json` stream — never `running` after the kill — and
 * that stream prints a model per change, not per tick.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { changeKey } from '../../src/cli/dashboard/json-lines.js';
import type { DashboardModel } from '../../src/core/dashboard/model.js';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';

const LONG = `node -e "setTimeout(() => {}, 600000)"`;
const KEY = `sk-ant-dash-${'d'.repeat(24)}`;
let server: ModelServer | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server?.close();
  server = undefined;
});

type Json = Record<string, unknown>;
type Row = { id: string; state: string; status: string; step: string | null; agent: string; model: string | null; provider: string; commits: number | null };
type Model = { generatedAt: string; fleet: Json; attention: Json[]; rows: Row[] };

describe('dashboard over live sessions of another process', () => {
  it('--json --once prints the read model; a SIGKILLed CLI is orphaned within 5 s and never running', async () => {
    server = await startModelServer({
      scenario: { steps: [{ toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/src/auth.ts', content: 'export const a = 1;\n' } }] }, { toolUses: [{ name: 'Bash', input: { command: LONG, timeout: 600000 } }] }] },
    });
    const repo = makeRepo({ 'README.md': '# d\n' });
    const home = tempDir('pcc-dash-home-');
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1' };
    const run = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'hold', '--json'], { env });
    // Whatever fails below, the run is stopped and its session finished (sandbox folder, worktree).
    cleanups.push(async () => {
      run.child.kill('SIGKILL');
      await run.done;
      await runCli(['cleanup', '--json'], { env });
    });
    let out = '';
    run.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out.includes('setTimeout'), { timeout: 60_000, interval: 100 }).toBe(true);
    const id = String(parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1))[0]?.sessionId);

    const once = await runCli(['dashboard', '--json', '--once'], { env });
    expect(once.code, once.stderr).toBe(0);
    const model = JSON.parse(once.stdout) as Model;
    expect(model.fleet).toMatchObject({ running: 1, done: 0, concurrency: 1, providers: { native: 1 } });
    expect(model.rows).toHaveLength(1);
    expect(model.rows[0]).toMatchObject({ id, state: 'running', agent: 'claude', provider: 'native', step: `Bash ${LONG}`, filesChanged: 1 });
    expect(model.rows[0]?.model).toBeTruthy();
    // Not a terminal: the plain table, once.
    const plain = await runCli(['dashboard', '--once'], { env });
    expect(plain.stdout).toMatch(new RegExp(`^${id}\\s+-\\s+claude.*\\snative\\s+running `, 'm'));

    const stream = startCli(['dashboard', '--json'], { env });
    cleanups.push(async () => {
      stream.child.kill('SIGKILL');
      await stream.done;
    });
    let models = '';
    stream.child.stdout?.on('data', (d: Buffer) => (models += d.toString()));
    const seen = (): Model[] => parseNdjson(models.slice(0, models.lastIndexOf('\n') + 1)) as unknown as Model[];
    await expect.poll(() => seen().some((m) => m.rows[0]?.state === 'running'), { timeout: 20_000, interval: 100 }).toBe(true);
    const killedAt = Date.now();
    run.child.kill('SIGKILL');
    await run.done;
    await expect.poll(() => seen().some((m) => m.rows[0]?.state === 'orphaned'), { timeout: 20_000, interval: 50 }).toBe(true);
    const firstOrphaned = seen().find((m) => m.rows[0]?.state === 'orphaned') as Model;
    expect(Date.parse(firstOrphaned.generatedAt) - killedAt).toBeLessThan(5_000);
    // Every model built after the kill (plus the moment it takes the kernel) says so.
    expect(seen().filter((m) => Date.parse(m.generatedAt) > killedAt + 50).map((m) => m.rows[0]?.state)).not.toContain('running');
    const lane = firstOrphaned.attention.find((a) => a.id === id);
    expect(lane).toMatchObject({ reason: 'orphaned' });
    expect(String(lane?.message)).toMatch(/^orphaned — `parallel-cc cleanup` or `parallel-cc sandbox reattach/);

    const clean = await runCli(['cleanup', '--json'], { env });
    expect(clean.code, clean.stderr).toBe(0);
    await expect.poll(() => seen().some((m) => m.rows[0]?.state === 'failed'), { timeout: 20_000, interval: 50 }).toBe(true);
    stream.child.kill('SIGTERM');
    expect((await stream.done).code).toBe(0);
    expect(stream.child.exitCode).toBe(0);
    // A line per change, not per tick: no model printed says only what the one before it said (ages aside),
    // though the stream saw ticks while the session ran, lay orphaned and cleanup ran.
    const keys = seen().map((m) => changeKey(m as unknown as DashboardModel));
    expect(keys.filter((k, i) => i > 0 && k === keys[i - 1])).toEqual([]);
    const after = JSON.parse((await runCli(['dashboard', '--json', '--once'], { env })).stdout) as Model;
    expect(after.rows[0]).toMatchObject({ id, state: 'failed' });
    expect(after.attention).toContainEqual(expect.objectContaining({ id, reason: 'failed' }));
  }, 150_000);

  it('a bad flag is the ops commands\' error: exit 2, `error:` and a hint on stderr, with --json the error as JSON on stdout', async () => {
    const env = { ...process.env, PARALLEL_CC_HOME: tempDir('pcc-dash-err-'), NO_COLOR: '1' };
    const plain = await runCli(['dashboard', '--port', 'abc'], { env });
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([2, '', 'error: --port must be a whole number ≥ 0 (got "abc")\n']);
    const json = await runCli(['dashboard', '--json', '--web', '--once'], { env });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ type: 'error', kind: 'usage', error: '--once prints the model once; it does not go with --web', hint: null });
    expect(json.stderr).toMatch(/^error: --once prints the model once/);
  });
});
