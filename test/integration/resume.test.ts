import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { commitStep, registryRows } from '../helpers/merge-repo.js';

let server: ModelServer;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // One conversation: the first run takes turns 0-1; the resumed run continues it at turn 2.
  server = await startModelServer({
    scenario: {
      steps: [commitStep('echo first > first.txt', 'agent: first'), { text: 'first part done' }, commitStep('echo second > second.txt', 'agent: second'), { text: 'second part done' }],
    },
  });
  home = tempDir('pcc-home-');
  env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-test-${'k'.repeat(24)}`, NO_COLOR: '1' };
});
afterAll(async () => {
  await server.close();
});

/** The text of every user message of a Messages request body. */
const userTexts = (body: unknown): string[] =>
  ((body as { messages?: Array<{ role: string; content: string | Array<{ type: string; text?: string }> }> }).messages ?? [])
    .filter((m) => m.role === 'user')
    .flatMap((m) => (typeof m.content === 'string' ? [m.content] : m.content.filter((c) => c.type === 'text').map((c) => String(c.text))));

describe('sandbox resume (native sandbox, real claude)', () => {
  it("continues the session in a new sandbox on its branch with claude's conversation restored", async () => {
    const repo = makeRepo({ 'README.md': '# resume\n' });
    const first = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'build part one', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const parent = registryRows(home).find((s) => s.repoPath === repo);
    expect(parent?.status).toBe('completed');
    // The transcript was collected into the session folder on the host.
    const transcript = join(String(parent?.sessionDir), 'agent-transcript.jsonl');
    expect(existsSync(transcript)).toBe(true);
    expect(readFileSync(transcript, 'utf8')).toContain('build part one');
    const before = server.requests.length;

    const r = await runCli(['sandbox', 'resume', '--session-id', String(parent?.id), '--prompt', 'now build part two', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const summary = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as { sessionId: string; branch: string; status: string };
    expect(summary).toMatchObject({ status: 'completed', branch: parent?.branch });

    // The model saw the first run's conversation and then the new prompt, in one conversation.
    const resumed = server.requests.slice(before).filter((q) => q.main);
    expect(resumed.length).toBeGreaterThan(0);
    const texts = userTexts(resumed[0]?.body);
    const i = texts.findIndex((t) => t.includes('build part one'));
    const j = texts.findIndex((t) => t.includes('now build part two'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(j).toBeGreaterThan(i);
    expect(JSON.stringify(resumed[0]?.body)).toContain('first part done');

    // The branch has the new commit after the old one; the child row points at its parent.
    expect(git(repo, 'log', '--format=%s', `main..${String(parent?.branch)}`).split('\n')).toEqual(['agent: second', 'agent: first']);
    const child = registryRows(home).find((s) => s.id === summary.sessionId);
    expect(child).toMatchObject({ resumedFrom: parent?.id, branch: parent?.branch, worktreePath: parent?.worktreePath, status: 'completed' });
    expect(git(String(parent?.worktreePath), 'status', '--porcelain')).toBe('');
  }, 180_000);

  it('refuses an agent that cannot resume, and a session with nothing kept, with exit 2 / 6 and what to do', async () => {
    const repo = makeRepo({ 'README.md': '# resume\n' });
    const cmd = await runCli(['sandbox', 'run', '--repo', repo, '--agent-cli', 'command', '--agent-command', 'sh -c "echo x > x.txt && git add -A && git commit -qm x"', '--prompt', 'p', '--json'], { env });
    expect(cmd.code, cmd.stderr).toBe(0);
    const s = registryRows(home).find((x) => x.repoPath === repo);
    const r = await runCli(['sandbox', 'resume', '--session-id', String(s?.id), '--prompt', 'more'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/resume is not supported for command/);
    const none = await runCli(['sandbox', 'resume', '--session-id', 'deadbeef', '--prompt', 'more'], { env });
    expect(none.code).toBe(6);
  }, 120_000);
});
