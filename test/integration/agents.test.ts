/**
 * The codex and gemini agents behind the agent port: each real binary (the codex native build, the
 * gemini node bundle run with the sandbox's node) runs the spine in a native sandbox against the
 * scripted model server speaking its API (OpenAI Responses, Gemini streamGenerateContent). The
 * branch is the spine's; the real key reaches the model server in the agent's own header and never
 * the sandbox; tool calls, text and usage are on the stream and the row.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { estimateCost } from '../../src/core/pricing.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { runSpine, SPINE_SCENARIO } from '../helpers/spine.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const KEYS = { codex: `sk-proj-REAL${'o'.repeat(40)}`, gemini: `AIzaREAL${'g'.repeat(31)}` };

/** The spine, plus one look at everything the agent can read of its environment before it ends. */
const SPINE_AND_LOOK: Scenario = {
  steps: [...SPINE_SCENARIO.steps.slice(0, -1), { toolUses: [{ name: 'Bash', input: { command: "env; tr '\\0' '\\n' < /proc/1/environ; cat ~/.gemini/settings.json 2>/dev/null; true" } }] }, ...SPINE_SCENARIO.steps.slice(-1)],
};

/** The CLI's environment for an agent against the scripted server: only that agent's key. */
function agentEnv(agent: 'codex' | 'gemini', url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PARALLEL_CC_HOME: tempDir('pcc-agents-home-'), NO_COLOR: '1', OPENAI_BASE_URL: url, GOOGLE_GEMINI_BASE_URL: url, PARALLEL_CC_CODEX_MODEL: 'gpt-5.5', PARALLEL_CC_GEMINI_MODEL: 'gemini-2.5-pro' };
  for (const k of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'OPENAI_API_KEY', 'CODEX_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY']) delete env[k];
  if (agent === 'codex') env.OPENAI_API_KEY = KEYS.codex;
  else env.GEMINI_API_KEY = KEYS.gemini;
  return env;
}

const rowOf = (home: string, id: string): ReturnType<SessionRepository['get']> => {
  const db = openDb(join(home, 'coordinator.db'));
  try {
    return new SessionRepository(db).get(id);
  } finally {
    db.close();
  }
};

const CASES = [
  { agent: 'codex' as const, protocol: 'openai', header: (k: string) => ['authorization', `Bearer ${k}`] as const, shell: 'shell', edit: 'file_change', placeholder: /OPENAI_API_KEY=(sk-pcc-[0-9a-f]{48})/ },
  { agent: 'gemini' as const, protocol: 'gemini', header: (k: string) => ['x-goog-api-key', k] as const, shell: 'run_shell_command', edit: 'write_file', placeholder: /GEMINI_API_KEY=(AIzaPcc[0-9a-f]{32})/ },
];

describe.each(CASES)('the $agent agent on the native provider', ({ agent, protocol, header, shell, edit, placeholder }) => {
  it('runs the spine: the branch has its commit and its uncommitted work; the key stays on the host; events and usage on the stream and the row', async () => {
    server = await startModelServer({ scenario: SPINE_AND_LOOK });
    const env = agentEnv(agent, server.url);
    const { summary, events } = await runSpine({ provider: 'native', env, args: ['--agent-cli', agent] });
    const requests = server.requests.filter((r) => r.protocol === protocol && r.main);
    expect(requests.length).toBeGreaterThanOrEqual(SPINE_AND_LOOK.steps.length);
    const [name, value] = header(KEYS[agent]);
    // The real key arrived in the agent's own header on every request, and nowhere else.
    expect(requests.every((r) => r.headers[name] === value)).toBe(true);
    expect(server.requests.every((r) => !r.raw.includes(KEYS[agent]))).toBe(true);
    // What the agent could read: its placeholder, never the key (env, pid 1's env, its settings).
    const looked = server.toolResults().map((t) => t.content).join('\n');
    expect(looked).toMatch(placeholder);
    expect(looked).not.toContain(KEYS[agent]);
    // Tool calls, their results, text and the result with usage, normalised.
    const tools = events.filter((e) => e.type === 'tool_use').map((e) => e.name);
    expect(tools).toEqual(expect.arrayContaining([shell, edit]));
    expect(events.filter((e) => e.type === 'tool_result').length).toBeGreaterThanOrEqual(tools.length);
    expect(events.some((e) => e.type === 'text' && e.text === 'done')).toBe(true);
    const result = events.find((e) => e.type === 'result') as { usage: { inputTokens: number; outputTokens: number }; costUsd: number } | undefined;
    expect(result?.usage.inputTokens).toBeGreaterThanOrEqual(1200);
    expect(result?.usage.outputTokens).toBeGreaterThanOrEqual(300);
    expect(result?.costUsd).toBeGreaterThan(0);
    // Nothing of the agent's own tried to leave by another way (telemetry, update checks are off).
    expect(summary.egressDenied, JSON.stringify(events.filter((e) => e.type === 'egress'))).toBe(0);
    // `logs` shows the same normalised events.
    const logs = await runCli(['sandbox', 'logs', String(summary.sessionId), '--json'], { env });
    expect(logs.code, logs.stderr).toBe(0);
    expect(parseNdjson(logs.stdout).filter((e) => e.type === 'tool_use').map((e) => e.name)).toEqual(tools);
    const status = await runCli(['status', '--all', '--json'], { env });
    const listed = (JSON.parse(status.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> }).repos.flatMap((g) => g.sessions);
    expect(listed.find((x) => x.id === summary.sessionId)).toMatchObject({ agent, status: 'completed' });
    const row = rowOf(String(env.PARALLEL_CC_HOME), String(summary.sessionId));
    expect(row).toMatchObject({ status: 'completed', agent, commits: 2, inputTokens: result?.usage.inputTokens, outputTokens: result?.usage.outputTokens, costUsd: result?.costUsd });
    // The broker's cost is the truth: every answer's usage × its model's price, as the server sent it.
    const served = server.requests.filter((r) => r.usage).reduce((n, r) => n + estimateCost(r.usage?.model, { inputTokens: r.usage?.input_tokens ?? 0, outputTokens: r.usage?.output_tokens ?? 0 }), 0);
    expect(row?.costUsd).toBeCloseTo(served, 6);
  });
});

describe('a refused key', () => {
  it.each([
    { agent: 'codex' as const, status: 401, key: 'OPENAI_API_KEY' },
    { agent: 'gemini' as const, status: 400, key: 'GEMINI_API_KEY' },
  ])('$agent: the run stops at once, failed, saying the key was rejected and which variable to check', async ({ agent, status, key }) => {
    server = await startModelServer({ scenario: SPINE_SCENARIO, failure: { status } });
    const started = Date.now();
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'p', '--agent-cli', agent, '--json'], { env: agentEnv(agent, server.url) });
    expect(r.code).toBe(1);
    const summary = (parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
    expect(summary).toMatchObject({ status: 'failed', error: `the model API rejected the key (${status})`, hint: expect.stringContaining(key) as unknown });
    // No waiting out the agent's own retries.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe.skipIf(!dockerReady())('the gemini agent on the docker provider', () => {
  it('runs its node package with the container\'s node: the spine branch, the key only in the header, no container left', async () => {
    server = await startModelServer({ scenario: SPINE_AND_LOOK });
    const env = agentEnv('gemini', server.url);
    const { summary } = await runSpine({ provider: 'docker', env, args: ['--agent-cli', 'gemini'] });
    expect(server.requests.filter((r) => r.protocol === 'gemini' && r.main).every((r) => r.headers['x-goog-api-key'] === KEYS.gemini)).toBe(true);
    const looked = server.toolResults().map((t) => t.content).join('\n');
    expect(looked).toMatch(/GEMINI_API_KEY=AIzaPcc[0-9a-f]{32}/);
    expect(looked).not.toContain(KEYS.gemini);
    expect(leftoverContainers([String(summary.sessionId)])).toEqual([]);
  });
});

describe('--multi with a task file mixing claude, codex and gemini', () => {
  it('runs each task with its own agent against its own API and lands three branches', async () => {
    const commit = (who: string): Scenario['steps'] => [{ toolUses: [{ name: 'Bash', input: { command: `echo ${who} > ${who}.txt && git add -A && git commit -qm "${who}: its file"` } }] }, { text: 'done' }];
    server = await startModelServer({ scenario: { steps: [{ text: 'unexpected prompt' }], byPrompt: { 'as claude': commit('claude'), 'as codex': commit('codex'), 'as gemini': commit('gemini') } } });
    const repo = makeRepo({ 'README.md': '# multi\n' });
    const file = join(tempDir('pcc-agents-tasks-'), 'tasks.txt');
    writeFileSync(file, ['{"id": "c", "prompt": "work as claude"}', '{"id": "o", "prompt": "work as codex", "agent": "codex"}', '{"id": "g", "prompt": "work as gemini", "agent": "gemini"}', ''].join('\n'));
    const out = join(tempDir('pcc-agents-out-'), 'results');
    const env: NodeJS.ProcessEnv = { ...agentEnv('codex', server.url), GEMINI_API_KEY: KEYS.gemini, ANTHROPIC_API_KEY: `sk-ant-multi-${'m'.repeat(24)}`, ANTHROPIC_BASE_URL: server.url };
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task-file', file, '--max-concurrent', '3', '--output-dir', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ taskId: string; status: string; branch: string; sessionId: string; usage: { inputTokens: number } | null }> };
    const who = { c: 'claude', o: 'codex', g: 'gemini' } as const;
    for (const t of summary.tasks) {
      const agent = who[t.taskId as keyof typeof who];
      expect(t.status, t.taskId).toBe('completed');
      expect(git(repo, 'log', '--format=%s', `main..${t.branch}`), t.taskId).toBe(`${agent}: its file`);
      expect(git(repo, 'show', `${t.branch}:${agent}.txt`)).toBe(agent);
      expect(t.usage?.inputTokens).toBeGreaterThan(0);
      expect(rowOf(String(env.PARALLEL_CC_HOME), t.sessionId)?.agent).toBe(agent);
    }
    expect(summary.tasks.map((t) => t.taskId).sort()).toEqual(['c', 'g', 'o']);
    // Each agent spoke its own API.
    expect(new Set(server.requests.filter((q) => q.main).map((q) => q.protocol))).toEqual(new Set(['anthropic', 'openai', 'gemini']));
  });

  it('refuses an unknown agent, or Claude Code components for a codex task, before anything runs (exit 2)', async () => {
    const file = join(tempDir('pcc-agents-tasks-'), 'tasks.txt');
    writeFileSync(file, '{"prompt": "p", "agent": "cursor"}\n');
    const env = agentEnv('codex', 'http://127.0.0.1:9');
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--multi', '--task-file', file], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tasks.txt:1: "agent" must be one of claude, codex, gemini, command/);
    writeFileSync(file, '{"prompt": "p", "agent": "codex"}\n');
    const repo = makeRepo({ '.claude/agents/rev.md': '---\nname: rev\ndescription: reviews\n---\nReview it.\n' });
    const comp = await runCli(['sandbox', 'run', '--repo', repo, '--multi', '--task-file', file, '--agent', 'rev'], { env: { ...env, ANTHROPIC_API_KEY: 'sk-ant-x' } });
    expect(comp.code, comp.stderr).toBe(2);
    expect(comp.stderr).toMatch(/the codex agent of a task takes no Claude Code components/);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
  });
});

describe('finding codex and gemini from the CLI', () => {
  it('a missing agent binary or key is exit 3 with how to fix it; nothing is registered', async () => {
    const env = agentEnv('codex', 'http://127.0.0.1:9');
    const repo = makeRepo();
    const nope = join(tempDir('pcc-agents-nope-'), 'nope');
    const codex = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'codex'], { env: { ...env, PARALLEL_CC_CODEX_BIN: nope } });
    expect(codex.code).toBe(3);
    expect(codex.stderr).toMatch(/PARALLEL_CC_CODEX_BIN=.* is not an executable file/);
    expect(codex.stderr).toMatch(/npm install -g @openai\/codex/);
    const gemini = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'gemini'], { env: { ...env, GEMINI_API_KEY: 'AIza-x', PARALLEL_CC_GEMINI_DIR: nope } });
    expect(gemini.code).toBe(3);
    expect(gemini.stderr).toMatch(/npm install -g @google\/gemini-cli/);
    const noKey = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'gemini'], { env });
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toMatch(/no Gemini credentials found[\s\S]*GEMINI_API_KEY/);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
  });

  it('doctor lists each agent it finds with its version, and the configured agent\'s own key', async () => {
    const env = { ...agentEnv('codex', 'http://127.0.0.1:9'), PARALLEL_CC_AGENT_CLI: 'codex' };
    const r = await runCli(['doctor', '--json'], { env });
    const checks = (parseNdjson(r.stdout)[0]?.checks ?? []) as Array<{ name: string; ok: boolean; required: boolean; detail: string }>;
    expect(checks.find((c) => c.name === 'codex')).toMatchObject({ ok: true, required: true, detail: expect.stringMatching(/bin\/codex \(codex-cli 0\.171\.0\)$/) as unknown });
    expect(checks.find((c) => c.name === 'gemini')).toMatchObject({ ok: true, required: false, detail: expect.stringMatching(/gemini-cli \(0\.61\.0\)$/) as unknown });
    expect(checks.find((c) => c.name === 'claude')).toMatchObject({ required: false });
    expect(checks.find((c) => c.name === 'openai credentials')).toMatchObject({ ok: true, required: true, detail: expect.stringContaining('OPENAI_API_KEY present') as unknown });
    expect(checks.find((c) => c.name === 'anthropic credentials')).toMatchObject({ required: false });
    const missing = await runCli(['doctor', '--json'], { env: { ...env, PARALLEL_CC_CODEX_BIN: '/nonexistent/codex' } });
    expect(missing.code).toBe(1);
    const codex = ((parseNdjson(missing.stdout)[0]?.checks ?? []) as Array<{ name: string; ok: boolean; detail: string }>).find((c) => c.name === 'codex');
    expect(codex).toMatchObject({ ok: false, fix: expect.stringContaining('npm install -g @openai/codex') as unknown });
  });
});
