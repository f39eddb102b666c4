/**
 * The E2B provider end to end: the CLI → the real `e2b` SDK → the local E2B emulator (real HTTP
 * protocols) → a bubblewrap sandbox per E2B sandbox → the real claude binary → the scripted model
 * server. Covers the spine scenario, what is (not) uploaded, `claude update`, timeouts, cost, a CLI
 * killed mid-run (logs --follow, download, kill from another CLI) and API failures.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import tar from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startE2BEmulator, type E2BEmulator } from '../fixtures/e2b/index.js';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const KEY = `sk-ant-e2b-${'e'.repeat(24)}`;
const E2B_KEY = `e2b_${'k'.repeat(32)}`;
let emulator: E2BEmulator;
let server: ModelServer | undefined;

beforeAll(async () => {
  emulator = await startE2BEmulator({ apiKey: E2B_KEY });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(async () => {
  emulator.fault(undefined);
  await server?.close();
  server = undefined;
});

const bash = (command: string, timeout?: number): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, ...(timeout ? { timeout } : {}) } }] });
const E2E: Scenario = {
  steps: [
    { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/hello.txt', content: 'hello from the agent\n' } }] },
    bash(`node -e "require('fs').writeFileSync('out.txt', String(6*7))"`),
    bash("git mv keep.txt renamed.txt && chmod +x tool.sh && git add -A && git commit -q -m 'agent: add hello and out'"),
    { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/notes.md', content: 'uncommitted ✓ notes\r\nline 2\n' } }, { name: 'Bash', input: { command: 'git rm -q obsolete.txt' } }] },
    { text: 'done' },
  ],
};

function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PARALLEL_CC_HOME: home,
    ANTHROPIC_BASE_URL: server?.url,
    ANTHROPIC_API_KEY: KEY,
    E2B_API_KEY: E2B_KEY,
    E2B_API_URL: emulator.apiUrl,
    E2B_SANDBOX_URL: emulator.sandboxUrl,
    NO_COLOR: '1',
    ...extra,
  };
}
const summaryOf = (stdout: string): Record<string, unknown> => (parseNdjson(stdout).find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
const sandboxOf = (sessionId: string): ReturnType<E2BEmulator['sandboxes']>[number] | undefined => emulator.sandboxes().find((s) => s.metadata['parallel-cc.session'] === sessionId);

async function tarEntries(gz: Buffer): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      names.push(h.name);
      stream.on('end', next);
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    extract.end(gunzipSync(gz));
  });
  return names.sort();
}

async function statusRow(home: string, id: string): Promise<Record<string, unknown>> {
  const r = await runCli(['status', '--all', '--json'], { env: env(home) });
  const out = JSON.parse(r.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> };
  return out.repos.flatMap((x) => x.sessions).find((s) => s.id === id) ?? {};
}

/**
 * Starts a run whose agent writes first.txt, works for 4 s, then writes second.txt, and SIGKILLs the
 * CLI while the agent works: the sandbox (and the agent in it) lives on. Returns the session id.
 */
async function killedMidRun(home: string, repo: string): Promise<string> {
  server = await startModelServer({
    scenario: {
      steps: [
        { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/first.txt', content: 'first\n' } }] },
        bash(`node -e "setTimeout(() => {}, 4000)"`, 60000),
        { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/second.txt', content: 'second\n' } }] },
        { text: 'finished the work' },
      ],
    },
  });
  const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', 'e2b', '--skip-claude-update', '--json'], { env: env(home) });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await expect.poll(() => out.includes('setTimeout'), { timeout: 60_000, interval: 100 }).toBe(true);
  child.kill('SIGKILL');
  await done;
  return String(parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1)).find((e) => typeof e.sessionId === 'string')?.sessionId);
}

describe('e2b provider (real SDK against the local E2B emulator)', () => {
  it('runs the spine scenario to the same branch contents as native, updates claude first, estimates the sandbox cost and kills the sandbox', async () => {
    server = await startModelServer({ scenario: E2E });
    const files = { 'keep.txt': 'keep me\n', 'obsolete.txt': 'old\n', 'tool.sh': 'echo tool\n', '.gitignore': 'node_modules/\n' };
    const trees: string[] = [];
    const home = tempDir();
    let e2bRun: Record<string, unknown> = {};
    let e2bOut = '';
    for (const provider of ['e2b', 'native']) {
      const repo = makeRepo(files);
      const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'do the work', '--provider', provider, '--json'], { env: env(home) });
      expect(r.code, `${provider}: ${r.stderr}`).toBe(0);
      const s = summaryOf(r.stdout);
      expect(s.status).toBe('completed');
      expect(git(repo, 'log', '--format=%s', `main..${String(s.branch)}`).split('\n')).toEqual(['parallel-cc: uncommitted work', 'agent: add hello and out']);
      trees.push(git(repo, 'ls-tree', '-r', String(s.branch)));
      if (provider === 'e2b') {
        e2bRun = s;
        e2bOut = r.stdout;
      }
    }
    expect(trees[0]).toBe(trees[1]);
    expect(trees[0]).toMatch(/100755 blob \w+\ttool\.sh/);
    const id = String(e2bRun.sessionId);
    // claude update ran in the sandbox before the agent, and the log says so (offline it fails: a warning).
    const sbx = sandboxOf(id);
    expect(sbx?.templateId).toBe('anthropic-claude-code');
    expect(emulator.commands.filter((c) => c.sandboxId === sbx?.sandboxId).some((c) => /claude update/.test(c.cmd))).toBe(true);
    const events = parseNdjson(e2bOut);
    expect(events.some((e) => e.type === 'phase' && /running claude update/.test(String(e.message)))).toBe(true);
    expect(events.some((e) => (e.type === 'warning' && /Claude update failed/.test(String(e.message))) || (e.type === 'phase' && /claude update: /.test(String(e.message))))).toBe(true);
    // $0.10/hour per second with a one-minute minimum: a short run costs the minimum, live and stored.
    expect(e2bRun.sandboxCostUsd).toBeCloseTo(0.1 / 60, 6);
    expect(events.some((e) => e.type === 'cost' && e.usdPerHour === 0.1)).toBe(true);
    expect((await statusRow(home, id)).sandboxCostUsd).toBeCloseTo(0.1 / 60, 6);
    expect(sbx && emulator.sandboxes().find((s) => s.sandboxId === sbx.sandboxId)?.state).toBe('killed');
  });

  it('uploads one tarball without secrets, .gitignore or .e2bignore matches; --skip-claude-update skips the update', async () => {
    server = await startModelServer({ scenario: { steps: [bash('ls -a; cat .env 2>&1; true'), { text: 'done' }] } });
    // 6 MB that does not compress: the upload reports its progress.
    const repo = makeRepo({ 'src/app.js': 'console.log(1)\n', '.gitignore': 'node_modules/\n', '.e2bignore': 'internal/\n', 'assets/noise.bin': randomBytes(6 * 1024 * 1024) });
    writeFiles(repo, {
      '.env': 'ENV_SECRET=1\n',
      '.env.local': 'ENV_LOCAL=1\n',
      id_rsa: 'SSH KEY\n',
      'cert.pem': 'PEM\n',
      'config/service.key': 'KEY\n',
      '.aws/credentials': '[default]\n',
      'internal/tokens.json': '{}\n',
      'node_modules/dep/index.js': 'x\n',
      'untracked.txt': 'new work\n',
    });
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'look', '--provider', 'e2b', '--skip-claude-update', '--json'], { env: env(home) });
    expect(r.code, r.stderr).toBe(0);
    const id = String(summaryOf(r.stdout).sessionId);
    const sbx = sandboxOf(id);
    const uploads = emulator.uploads.filter((u) => u.sandboxId === sbx?.sandboxId && u.path.endsWith('.tar.gz'));
    expect(uploads).toHaveLength(1);
    const names = await tarEntries(uploads[0]?.data ?? Buffer.alloc(0));
    expect(names).toEqual(['.e2bignore', '.gitignore', 'assets/noise.bin', 'src/app.js', 'untracked.txt']);
    const progress = parseNdjson(r.stdout).filter((e) => e.type === 'phase' && /^uploaded [\d.]+ of 6\.0 MB \(\d+%\)$/.test(String(e.message)));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    // What the agent could see in the sandbox agrees.
    const listing = server.toolResults().map((t) => t.content).join('\n');
    expect(listing).toContain('untracked.txt');
    expect(listing).not.toMatch(/ENV_SECRET|id_rsa|cert\.pem/);
    expect(emulator.commands.filter((c) => c.sandboxId === sbx?.sandboxId).some((c) => /claude update/.test(c.cmd))).toBe(false);
    expect(r.stdout).not.toMatch(/running claude update/);
  });

  it('warns at 50% and 83% of the timeout and kills the sandbox at 100%', async () => {
    server = await startModelServer({ scenario: { steps: [bash('echo work > w.txt'), bash(`node -e "setTimeout(() => {}, 600000)"`, 600000)] } });
    const home = tempDir();
    const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 't', '--provider', 'e2b', '--skip-claude-update', '--timeout', '0.15', '--json'], { env: env(home) });
    expect(r.code, r.stderr).toBe(4);
    const events = parseNdjson(r.stdout);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings.some((w) => w.startsWith('50% of the 0.15-minute timeout used'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('83% of the 0.15-minute timeout used'))).toBe(true);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('timed_out');
    expect(s.commits).toBe(1); // the work so far (w.txt) is kept
    expect(sandboxOf(String(s.sessionId))?.state).toBe('killed');
  });

  it('survives a SIGKILLed CLI: logs --follow reattaches, download fetches from the live sandbox, kill destroys it', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await killedMidRun(home, repo);
    expect(sandboxOf(id)?.state).toBe('running');

    const follow = await runCli(['sandbox', 'logs', '--session-id', id, '--follow', '--json'], { env: env(home) });
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stderr).toMatch(/reattaching to e2b sandbox/);
    const followed = parseNdjson(follow.stdout);
    expect(followed.some((e) => e.type === 'tool_use' && JSON.stringify(e.input).includes('second.txt'))).toBe(true);
    expect(followed.some((e) => e.type === 'result' && e.isError === false)).toBe(true);
    // Each agent line once: the part the dead CLI logged is not replayed from the sandbox again.
    const lines = followed.map((e) => e.agentLine).filter((n): n is number => typeof n === 'number');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines).toEqual([...lines].sort((x, y) => x - y));
    const keys = followed.filter((e) => typeof e.agentLine === 'number').map((e) => JSON.stringify({ ...e, ts: undefined }));
    expect(new Set(keys).size).toBe(keys.length);
    expect(follow.stderr).toMatch(/the agent ended in sandbox/);

    // Health reaches the live sandbox of the orphaned session and estimates what it costs so far.
    const health = await runCli(['sandbox', 'health', '--session-id', id, '--json'], { env: env(home) });
    expect(health.code, health.stderr).toBe(0);
    const h = JSON.parse(health.stdout) as Record<string, unknown>;
    expect(h).toMatchObject({ status: 'orphaned', provider: 'e2b', memoryLimitBytes: 1024 * 2 ** 20 });
    expect(h.sandboxCostUsd).toBeGreaterThanOrEqual(0.1 / 60);

    const dl = tempDir();
    const download = await runCli(['sandbox', 'download', '--session-id', id, '--output', dl, '--json'], { env: env(home) });
    expect(download.code, download.stderr).toBe(0);
    expect(JSON.parse(download.stdout)).toMatchObject({ source: 'live-sandbox' });
    expect(readFileSync(join(dl, 'first.txt'), 'utf8')).toBe('first\n');
    expect(readFileSync(join(dl, 'second.txt'), 'utf8')).toBe('second\n');

    const kill = await runCli(['sandbox', 'kill', '--session-id', id, '--keep-worktree', '--json'], { env: env(home) });
    expect(kill.code, kill.stderr).toBe(0);
    const killed = JSON.parse(kill.stdout) as { status: string; commits: number; branch: string };
    expect(killed.status).toBe('killed');
    expect(killed.commits).toBeGreaterThanOrEqual(1);
    expect(git(repo, 'show', `${killed.branch}:second.txt`)).toBe('second');
    expect(sandboxOf(id)?.state).toBe('killed');
  });

  it('sandbox reattach after a SIGKILLed CLI streams the rest of the agent and finishes the session as the agent did', async () => {
    const home = tempDir();
    const repo = makeRepo();
    const id = await killedMidRun(home, repo);
    const r = await runCli(['sandbox', 'reattach', '--session-id', id], { env: env(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/→ Write .*second\.txt/);
    expect(r.stdout).toMatch(/finished the work/);
    expect(r.stdout).toMatch(new RegExp(`Session ${id} COMPLETED`));
    const row = await statusRow(home, id);
    expect(row.status).toBe('completed');
    expect(row.error).toBeNull();
    expect(git(repo, 'show', `${String(row.branch)}:second.txt`)).toBe('second');
    expect(sandboxOf(id)?.state).toBe('killed');
  });

  it('runs --multi tasks each in its own E2B sandbox; task costs include the sandbox time', async () => {
    server = await startModelServer({ scenario: { steps: [bash('echo "$RANDOM" > "out-$RANDOM.txt"'), { text: 'done' }] } });
    const repo = makeRepo();
    const out = tempDir();
    const r = await runCli(['sandbox', 'run', '--multi', '--repo', repo, '--task', 'one', '--task', 'two', '--task', 'three', '--provider', 'e2b', '--skip-claude-update', '--output-dir', out], { env: env(tempDir()) });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ status: string; branch: string; sessionId: string; costUsd: number }> };
    expect(summary.tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    for (const t of summary.tasks) {
      expect(git(repo, 'log', '--format=%s', `main..${t.branch}`)).toBe('parallel-cc: uncommitted work');
      // The model's scripted cost plus at least E2B's one-minute minimum.
      expect(t.costUsd).toBeGreaterThan(0.1 / 60);
      expect(sandboxOf(t.sessionId)?.state).toBe('killed');
    }
    expect(new Set(summary.tasks.map((t) => sandboxOf(t.sessionId)?.sandboxId)).size).toBe(3);
  });

  it('fails clearly, with a failed session and no stack trace, on a missing or rejected key, a 500 and a hanging API', async () => {
    server = await startModelServer({ scenario: { steps: [{ text: 'done' }] } });
    const home = tempDir();
    const cases: Array<{ name: string; env: NodeJS.ProcessEnv; fault?: number | 'hang'; message: RegExp }> = [
      { name: 'missing key', env: { E2B_API_KEY: '' }, message: /E2B_API_KEY is not set/ },
      { name: 'rejected key', env: { E2B_API_KEY: `e2b_${'x'.repeat(32)}` }, message: /E2B rejected the API key .*HTTP 401/ },
      { name: 'HTTP 500', env: {}, fault: 500, message: /the E2B API failed while .*HTTP 500/ },
      { name: 'hang', env: { PARALLEL_CC_E2B_REQUEST_TIMEOUT: '2' }, fault: 'hang', message: /the E2B API did not answer in time/ },
    ];
    for (const c of cases) {
      emulator.fault(c.fault);
      const started = Date.now();
      const r = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'x', '--provider', 'e2b'], { env: env(home, c.env) });
      emulator.fault(undefined);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(3);
      expect(Date.now() - started, c.name).toBeLessThan(45_000);
      expect(r.stderr, c.name).toMatch(c.message);
      expect(r.stderr, c.name).toMatch(/hint: /);
      expect(r.stderr, c.name).not.toMatch(/\n\s+at /);
      expect(r.stdout, c.name).toMatch(/^Session\s+[0-9a-f]{8} FAILED$/m);
      const row = await statusRow(home, /^Session\s+([0-9a-f]{8})/m.exec(r.stdout)?.[1] ?? '');
      expect(row.status, c.name).toBe('failed');
      expect(String(row.error), c.name).toMatch(c.message);
      expect(typeof row.worktreePath === 'string' && existsSync(row.worktreePath), c.name).toBe(false);
    }
  });
});
