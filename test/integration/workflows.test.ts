/**
 * Saved workflows (#28): a workflow runs exactly as its `sandbox run` (the spine branch), records
 * its name on every row, takes `--set` overrides, names the file and key of a bad definition, and
 * retries transient provider failures (the E2B emulator answering 503) but never an agent failure.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { useE2B } from '../helpers/e2b.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { expectSpineBranch, spineScript, SPINE_FILES } from '../helpers/spine.js';

const e2b = useE2B();

/** The environment of a command-agent run: no model key at all. */
function env(home: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PARALLEL_CC_HOME: home, NO_COLOR: '1' };
  delete e.ANTHROPIC_API_KEY;
  delete e.ANTHROPIC_AUTH_TOKEN;
  return e;
}

type Row = Record<string, unknown>;
const rows = async (home: string, e: NodeJS.ProcessEnv): Promise<Row[]> => {
  const r = await runCli(['status', '--all', '--json'], { env: e });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { repos: Array<{ sessions: Row[] }> }).repos.flatMap((x) => x.sessions);
};
const resultOf = (stdout: string): Row => parseNdjson(stdout).find((l) => l.type === 'workflow') ?? {};
const summaryOf = (stdout: string): Row => (parseNdjson(stdout).find((l) => l.type === 'summary')?.summary ?? {}) as Row;

function okAgent(): string {
  const dir = tempDir('pcc-wf-ok-');
  writeFiles(dir, { 'agent.sh': '#!/bin/sh\ncat > task.txt\n' });
  chmodSync(join(dir, 'agent.sh'), 0o755);
  return join(dir, 'agent.sh');
}

function failingAgent(): string {
  const dir = tempDir('pcc-wf-fail-');
  writeFiles(dir, { 'agent.sh': '#!/bin/sh\necho "the agent gives up" >&2\nexit 1\n' });
  chmodSync(join(dir, 'agent.sh'), 0o755);
  return join(dir, 'agent.sh');
}

describe('workflow create/run on native', () => {
  it('lands the spine branch of the equivalent sandbox run, records the workflow on the row, and --set timeout=1 overrides', async () => {
    const home = tempDir();
    const repo = makeRepo({ ...SPINE_FILES });
    const e = env(home);
    const create = await runCli(['workflow', 'create', 'spine', '--prompt', 'do the work', '--provider', 'native', '--agent-cli', 'command', '--agent-command', spineScript(), '--timeout', '30m'], { cwd: repo, env: e });
    expect(create.code, create.stderr).toBe(0);
    expect(create.stdout).toMatch(/Saved workflow spine \(user\)/);

    // Run from elsewhere: the saved run works on the folder it was made in.
    const r = await runCli(['workflow', 'run', 'spine', '--json'], { cwd: tempDir(), env: e });
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('completed');
    expectSpineBranch(repo, String(s.branch));
    expect(resultOf(r.stdout)).toMatchObject({ workflow: 'spine', status: 'completed', attempts: 1, sessionIds: [s.sessionId] });

    const over = await runCli(['workflow', 'run', 'spine', '--set', 'timeout=1', '--json'], { env: e });
    expect(over.code, over.stderr).toBe(0);
    const all = await rows(home, e);
    const first = all.find((x) => x.id === s.sessionId);
    const second = all.find((x) => x.id === summaryOf(over.stdout).sessionId);
    expect(first).toMatchObject({ workflow: 'spine', attemptOf: null, timeoutSeconds: 1800 });
    expect(second).toMatchObject({ workflow: 'spine', attemptOf: null, timeoutSeconds: 60 });

    const h = await runCli(['history', '--workflow', 'spine', '--json'], { env: e });
    expect((JSON.parse(h.stdout) as { entries: Row[] }).entries.map((x) => x.id).sort()).toEqual([first?.id, second?.id].sort());
    const none = await runCli(['history', '--workflow', 'other', '--json'], { env: e });
    expect((JSON.parse(none.stdout) as { entries: Row[] }).entries).toEqual([]);
  });

  it('names the file and the key of an invalid definition, and a repository workflow wins over the user one', async () => {
    const home = tempDir();
    const e = env(home);
    const repo = makeRepo();
    mkdirSync(join(home, 'workflows'), { recursive: true });
    const bad = join(home, 'workflows', 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, name: 'bad', run: { prompt: 'x', timout: '5m' } }));
    const r = await runCli(['workflow', 'run', 'bad'], { cwd: repo, env: e });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid workflow definition ${bad}: run.timout: unknown key`);
    writeFileSync(bad, JSON.stringify({ version: 1, name: 'bad', run: { prompt: 'x' }, retry: { max: 'three' } }));
    expect((await runCli(['workflow', 'show', 'bad'], { env: e })).stderr).toMatch(new RegExp(`${bad}: retry\\.max: `));
    expect(await rows(home, e)).toEqual([]);

    for (const [scope, prompt] of [['user', 'from home'], ['repo', 'from the repo']] as const) {
      const c = await runCli(['workflow', 'create', 'twice', '--prompt', prompt, '--scope', scope], { cwd: repo, env: e });
      expect(c.code, c.stderr).toBe(0);
    }
    const show = JSON.parse((await runCli(['workflow', 'show', 'twice', '--json'], { cwd: repo, env: e })).stdout) as Row;
    expect(show).toMatchObject({ scope: 'repo', file: join(repo, '.parallel-cc', 'workflows', 'twice.json'), definition: { run: { prompt: 'from the repo' } } });
    const elsewhere = JSON.parse((await runCli(['workflow', 'show', 'twice', '--json'], { cwd: tempDir(), env: e })).stdout) as Row;
    expect(elsewhere).toMatchObject({ scope: 'user', definition: { run: { prompt: 'from home' } } });
    const again = await runCli(['workflow', 'create', 'twice', '--prompt', 'y'], { cwd: repo, env: e });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect((await runCli(['workflow', 'rm', 'twice'], { cwd: repo, env: e })).code).toBe(0);
    expect(JSON.parse((await runCli(['workflow', 'show', 'twice', '--json'], { cwd: repo, env: e })).stdout)).toMatchObject({ scope: 'user' });
  });

  it('does not retry an agent that failed: one attempt, one row', async () => {
    const home = tempDir();
    const e = env(home);
    const repo = makeRepo();
    const c = await runCli(['workflow', 'create', 'fails', '--repo', repo, '--prompt', 'x', '--provider', 'native', '--agent-cli', 'command', '--agent-command', failingAgent(), '--retries', '3', '--retry-delay', '0'], { env: e });
    expect(c.code, c.stderr).toBe(0);
    const r = await runCli(['workflow', 'run', 'fails', '--json'], { env: e });
    expect(r.code).toBe(1);
    expect(resultOf(r.stdout)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.stderr).not.toMatch(/attempt 2/);
    const all = await rows(home, e);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ workflow: 'fails', reason: 'agent_failed' });
  });
});

describe('workflow run --multi', () => {
  it('runs a saved batch through sandbox run --multi and records the workflow on every task row', async () => {
    const home = tempDir();
    const e = env(home);
    const repo = makeRepo();
    const out = join(tempDir(), 'results');
    const c = await runCli(['workflow', 'create', 'batch', '--repo', repo, '--multi', '--task', 'one', '--task', 'two', '--output-dir', out, '--provider', 'native', '--agent-cli', 'command', '--agent-command', okAgent()], { env: e });
    expect(c.code, c.stderr).toBe(0);
    const r = await runCli(['workflow', 'run', 'batch', '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const all = await rows(home, e);
    expect(all).toHaveLength(2);
    expect(all.map((x) => [x.status, x.workflow, x.taskId]).sort()).toEqual([
      ['completed', 'batch', 'task-1'],
      ['completed', 'batch', 'task-2'],
    ]);
    expect((await runCli(['workflow', 'create', 'bad-batch', '--multi', '--task', 'a', '--retries', '2'], { env: e })).stderr).toMatch(/retries are for single runs/);
  });
});

describe('workflow retries on E2B', () => {
  it('retries an outage (503 twice, then 200): the third attempt completes and three rows are linked to the first', async () => {
    await e2b.serve({ steps: [{ text: 'done' }] });
    const home = tempDir();
    const e = e2b.env(home);
    const repo = makeRepo();
    const c = await runCli(['workflow', 'create', 'outage', '--repo', repo, '--prompt', 'x', '--provider', 'e2b', '--skip-agent-update', '--retries', '3', '--retry-delay', '0'], { env: e });
    expect(c.code, c.stderr).toBe(0);
    e2b.emulator().fault(503, 2);
    const r = await runCli(['workflow', 'run', 'outage', '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const result = resultOf(r.stdout);
    expect(result).toMatchObject({ status: 'completed', attempts: 3 });
    expect(r.stderr).toMatch(/attempt 1 failed \(provider_unavailable\): attempt 2 of 4/);
    const ids = result.sessionIds as string[];
    const all = await rows(home, e);
    const byId = (id: string | undefined): Row | undefined => all.find((x) => x.id === id);
    expect(all).toHaveLength(3);
    expect(byId(ids[0])).toMatchObject({ status: 'failed', reason: 'provider_unavailable', workflow: 'outage', attemptOf: null });
    expect(byId(ids[1])).toMatchObject({ status: 'failed', reason: 'provider_unavailable', workflow: 'outage', attemptOf: ids[0] });
    expect(byId(ids[2])).toMatchObject({ status: 'completed', workflow: 'outage', attemptOf: ids[0] });
    const human = await runCli(['status', '--all'], { env: e });
    expect(human.stdout).toContain(`workflow outage (retry of ${String(ids[0])})`);
  });

  it('retries a failed sandbox creation (503 on create only): the row says provider_unavailable, the second attempt completes', async () => {
    await e2b.serve({ steps: [{ text: 'done' }] });
    const home = tempDir();
    const e = e2b.env(home);
    const c = await runCli(['workflow', 'create', 'create-fails', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'e2b', '--skip-agent-update', '--retries', '1', '--retry-delay', '0'], { env: e });
    expect(c.code, c.stderr).toBe(0);
    e2b.emulator().fault(503, 1, 'create');
    const r = await runCli(['workflow', 'run', 'create-fails', '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const ids = resultOf(r.stdout).sessionIds as string[];
    expect(ids).toHaveLength(2);
    const all = await rows(home, e);
    expect(all.find((x) => x.id === ids[0])).toMatchObject({ status: 'failed', reason: 'provider_unavailable', error: expect.stringMatching(/while creating .*HTTP 503/) as unknown });
    expect(all.find((x) => x.id === ids[1])).toMatchObject({ status: 'completed', attemptOf: ids[0] });
  });
});
