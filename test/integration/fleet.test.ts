/**
 * The broker as the fleet's control point, with the real claude against the scripted model server:
 * a shared requests-per-window limit across a batch, a fleet-wide backoff on 429 (the broker
 * retries, the agents never see it), the exact cost on the row while the run goes, and a batch
 * budget that stops every task while their work lands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { estimateCost } from '../../src/core/pricing.js';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { registryRows } from '../helpers/registry.js';

const COMMIT_STEP: Scenario['steps'][number] = {
  toolUses: [{ name: 'Bash', input: { command: 'f="work-$(od -An -N4 -tx4 /dev/urandom | tr -d " ")"; echo "$f" > "$f.txt" && git add -A && git commit -qm "agent: $f"' } }],
};
const QUICK: Scenario = { steps: [COMMIT_STEP, { text: 'done' }] };
// Claude Code refuses a bare `sleep 600`; a node timer is a long-running command it accepts.
const LONG_COMMAND = `node -e "setTimeout(() => {}, 600000)"`;

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(scenario: Scenario, extraEnv: Record<string, string> = {}): Promise<{ repo: string; home: string; out: string; env: NodeJS.ProcessEnv }> {
  server = await startModelServer({ scenario });
  const repo = makeRepo({ 'README.md': '# fleet\n' });
  const home = tempDir('pcc-home-');
  const out = join(tempDir('pcc-out-'), 'results');
  const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}`, NO_COLOR: '1', ...extraEnv };
  return { repo, home, out, env };
}

const rows = registryRows;

/** What the server's answers cost: each answered request's usage × its model's price. */
const serverCost = (s: ModelServer, filter: (r: ModelServer['requests'][number]) => boolean = () => true): number =>
  s.requests.filter((r) => r.usage && filter(r)).reduce((n, r) => n + estimateCost(r.usage?.model, { inputTokens: r.usage?.input_tokens ?? 0, outputTokens: r.usage?.output_tokens ?? 0 }), 0);
const cents = (usd: number | null | undefined): number => Math.round((usd ?? NaN) * 100);

const tasks = (n: number): string[] => Array.from({ length: n }, (_, i) => ['--task', `task number ${i + 1}`]).flat();

describe('the model API fleet (native provider, real claude)', () => {
  it('the cost on the row is the server\'s usage × price, live while the agent runs and exact at the end', async () => {
    const { repo, home, env } = await setup({
      steps: [
        { toolUses: [{ name: 'Bash', input: { command: `node -e "setTimeout(() => {}, 8000)"` } }], usage: { input_tokens: 40_000, output_tokens: 900 } },
        { text: 'done', usage: { input_tokens: 41_000, output_tokens: 300 } },
      ],
    });
    const { done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'think for a while', '--json'], { env });
    // While the agent runs its 8-second tool, the row carries what the answers so far cost.
    let live: { row: number | null; server: number } | undefined;
    const deadline = Date.now() + 90_000;
    while (!live && Date.now() < deadline) {
      const [row] = rows(home);
      const mainAnswered = server?.requests.filter((r) => r.main && r.usage).length ?? 0;
      if (row?.status === 'running' && mainAnswered >= 1 && row.costUsd !== null && cents(row.costUsd) === cents(serverCost(server as ModelServer)) && cents(row.costUsd) > 0) live = { row: row.costUsd, server: serverCost(server as ModelServer) };
      else await new Promise((r) => setTimeout(r, 100));
    }
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(live, 'the row showed the live cost while the agent ran').toBeDefined();
    const [row] = rows(home);
    const total = serverCost(server as ModelServer);
    expect(live?.row).toBeLessThan(total);
    expect(cents(row?.costUsd)).toBe(cents(total));
    expect(row?.costUsd).toBeCloseTo(total, 5);
    const summary = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as { costUsd: number };
    expect(summary.costUsd).toBe(row?.costUsd);
  });

  it('8 tasks at concurrency 8 under requestsPerMinute (5 per 3 s window): the server never sees more than the limit per window; all complete; the stream shows the waits', async () => {
    const { repo, home, out, env } = await setup(QUICK, { PARALLEL_CC_MODEL_API_RPM: '5', PARALLEL_CC_MODEL_API_WINDOW_SECONDS: '3' });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--max-concurrent', '8', ...tasks(8), '--output-dir', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const list = rows(home);
    expect(list.map((x) => x.status)).toEqual(Array(8).fill('completed'));
    const s = server as ModelServer;
    // The limit had work to do: every task's two turns, over three times what one window allows.
    expect(s.requests.length).toBeGreaterThanOrEqual(16);
    expect(s.maxInWindow(3000)).toBeLessThanOrEqual(5);
    // It paced them rather than starving anyone: the batch took at least the windows it needed.
    const at = s.requests.map((q) => q.at);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(3 * 3000);
    const waits = parseNdjson(r.stdout).filter((e) => e.type === 'model_api' && e.state === 'waiting');
    expect(waits.length).toBeGreaterThan(0);
    expect(String(waits[0]?.message)).toMatch(/^model request waiting: \d+ requests in the last 3 s \(requestsPerMinute 5\); next in \d+ s$/);
    expect(new Set(waits.map((e) => e.taskId)).size).toBeGreaterThan(1);
  }, 300_000);

  it('429 with Retry-After: 2 to 30% of requests: the fleet holds, the broker retries, every task completes, no agent retries on its own', async () => {
    const { repo, home, out, env } = await setup(QUICK);
    const batch = (dir: string): Promise<Awaited<ReturnType<typeof runCli>>> => runCli(['sandbox', 'run', '--repo', repo, '--multi', '--max-concurrent', '6', ...tasks(6), '--output-dir', dir, '--json'], { env });
    // The same batch without 429s first: how many requests it takes.
    const baseline = await batch(join(out, 'baseline'));
    expect(baseline.code, baseline.stderr).toBe(0);
    const s = server as ModelServer;
    const free = s.requests.length;
    s.requests.length = 0;
    s.setRateLimit({ fraction: 0.3, retryAfterSeconds: 2 });
    const r = await batch(join(out, 'limited'));
    expect(r.code, r.stderr).toBe(0);
    expect(rows(home).map((x) => [x.status, x.error])).toEqual(Array(12).fill(['completed', null]));
    const limited = s.requests.filter((q) => q.status === 429);
    expect(limited.length).toBeGreaterThan(3);
    // Every 429 costs one more request and nothing else.
    expect(s.requests.length, `${s.requests.length} requests with 429s, ${free} without`).toBeLessThanOrEqual(1.5 * free);
    const events = parseNdjson(r.stdout);
    // The agents never saw a 429: no retry of their own, none gave up.
    expect(events.filter((e) => e.type === 'api_retry'), 'no agent retried on its own').toEqual([]);
    const held = events.filter((e) => e.type === 'model_api' && e.state === 'rate_limited');
    expect(held.length).toBeGreaterThan(0);
    expect(String(held[0]?.message)).toMatch(/^rate limited by the model API \(429\); retry 1\/4; resuming in [23] s$/);
    // The hold is fleet-wide: after each 429, no request of any task arrives until Retry-After is nearly
    // over. (On a loaded machine one already let go before the 429 came back may still arrive late: at
    // most two such stragglers in the whole batch; without the hold every 429 would be followed by several.)
    const stragglers = limited.flatMap((q) => s.requests.filter((x) => x.at > q.at + 1000 && x.at < q.at + 2000).map((x) => x.at - q.at));
    expect(stragglers.length, `requests arriving 1-2 s after a 429: ${JSON.stringify(stragglers)}`).toBeLessThanOrEqual(2);
  }, 300_000);

  it('a batch --budget stops every task once the sum passes it; the summary says so; their work lands', async () => {
    const { repo, home, out, env } = await setup({
      steps: [COMMIT_STEP, { toolUses: [{ name: 'Bash', input: { command: LONG_COMMAND } }], usage: { input_tokens: 100_000, output_tokens: 10 }, model: 'claude-sonnet-4-5' }],
    });
    // Each task's second answer costs ~$0.30: only the third one passes $0.75, when all three committed.
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--max-concurrent', '3', ...tasks(3), '--budget', '0.75', '--output-dir', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const list = rows(home);
    expect(list.map((x) => x.status)).toEqual(Array(3).fill('over_budget'));
    for (const row of list) {
      expect(row.error).toMatch(/^the agent was stopped: the batch's cost \(\$0\.9\d+\) passed its --budget of \$0\.75; its work so far is kept$/);
      // Stopped at once, not after the long command.
      expect(Date.parse(String(row.completedAt)) - Date.parse(String(row.startedAt))).toBeLessThan(90_000);
      expect(git(repo, 'log', '--format=%s', `main..${String(row.branch)}`)).toMatch(/^agent: work-[0-9a-f]+$/);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { budget: { usd: number; spentUsd: number; reached: boolean; message: string }; tasks: Array<{ status: string; error?: { reason: string } }> };
    expect(summary.budget).toMatchObject({ usd: 0.75, reached: true, message: expect.stringMatching(/every task was stopped/) as unknown });
    expect(cents(summary.budget.spentUsd)).toBe(cents(serverCost(server as ModelServer)));
    expect(summary.tasks.map((t) => [t.status, t.error?.reason])).toEqual(Array(3).fill(['over_budget', 'over_budget']));
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/Budget: \$0\.9\d+ of \$0\.75 · \*\*budget reached\*\*/);
    expect(parseNdjson(r.stdout).filter((e) => e.type === 'model_api' && e.state === 'budget_reached').map((e) => e.taskId).sort()).toEqual(['task-1', 'task-2', 'task-3']);
  }, 300_000);

  it('two CLI processes on one machine share the limit through the registry (no daemon)', async () => {
    // A 10 s window: the two processes' four requests fall in one window even when a loaded machine
    // starts one agent seconds after the other, so one of them has to wait.
    const { repo, home, env } = await setup(QUICK, { PARALLEL_CC_MODEL_API_RPM: '2', PARALLEL_CC_MODEL_API_WINDOW_SECONDS: '10' });
    const [a, b] = await Promise.all([1, 2].map((i) => runCli(['sandbox', 'run', '--repo', repo, '--prompt', `process ${i}`, '--json'], { env })));
    expect(a?.code, a?.stderr).toBe(0);
    expect(b?.code, b?.stderr).toBe(0);
    expect(rows(home).map((x) => x.status)).toEqual(['completed', 'completed']);
    const s = server as ModelServer;
    expect(s.requests.length).toBeGreaterThanOrEqual(4);
    // Each process alone would allow 2 per window: together they still never pass 2.
    expect(s.maxInWindow(10_000)).toBeLessThanOrEqual(2);
    const waited = [a, b].flatMap((r) => parseNdjson(r?.stdout ?? '')).filter((e) => e.type === 'model_api' && e.state === 'waiting');
    expect(waited.length).toBeGreaterThan(0);
  }, 300_000);
});
