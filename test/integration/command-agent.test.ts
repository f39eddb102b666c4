/**
 * The `command` agent proves the agent port: any program (here a shell script) runs in every local
 * sandbox with the prompt on its stdin, its output lines become text events, its exit code is the
 * outcome, and its commits plus its uncommitted work land on the branch. It needs no model key.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli, summaryOf } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';
import { runSpine } from '../helpers/spine.js';

// The spine scenario as a script: reads the prompt, edits, commits, leaves an uncommitted change.
const SCRIPT = `#!/bin/sh
set -e
cat > prompt-seen.txt
echo "edited by the command agent" >> README.md
git add -A
git commit -q -m 'command: edit README'
echo 'work in progress' > wip.txt
echo "stdout line: $1"
echo "stderr line" >&2
`;

/** The environment of a run: no model key at all (the command agent must not need one). */
function env(home: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PARALLEL_CC_HOME: home, NO_COLOR: '1' };
  delete e.ANTHROPIC_API_KEY;
  delete e.ANTHROPIC_AUTH_TOKEN;
  return e;
}

function script(): string {
  const dir = tempDir('pcc-cmd-agent-');
  writeFiles(dir, { 'agent.sh': SCRIPT });
  chmodSync(join(dir, 'agent.sh'), 0o755);
  return join(dir, 'agent.sh');
}

const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe('the command agent (--agent-cli command)', () => {
  it.each(PROVIDERS)('runs the shared spine scenario on %s to the spine branch', async (provider) => {
    const { summary } = await runSpine({ provider, agent: 'command', env: env(tempDir()) });
    if (provider === 'docker') expect(leftoverContainers([String(summary.sessionId)])).toEqual([]);
  });

  it.each(PROVIDERS)('reads the prompt on stdin on %s: the branch has its commit and its uncommitted work; status shows the agent', async (provider) => {
    const repo = makeRepo({ 'README.md': '# test\n' });
    const home = tempDir();
    const prompt = 'do the work ✓\nline two\n';
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', prompt, '--provider', provider, '--agent-cli', 'command', '--agent-command', `${script()} 'two words'`, '--json'], { env: env(home) });
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('completed');
    const branch = String(s.branch);
    expect(git(repo, 'log', '--format=%s', `main..${branch}`).split('\n')).toEqual(['parallel-cc: uncommitted work', 'command: edit README']);
    expect(git(repo, 'show', `${branch}:README.md`)).toBe('# test\nedited by the command agent');
    expect(git(repo, 'show', `${branch}:wip.txt`)).toBe('work in progress');
    // The prompt reached its stdin byte for byte (git show trims the final newline).
    expect(git(repo, 'show', `${branch}:prompt-seen.txt`)).toBe(prompt.trimEnd());
    const texts = parseNdjson(r.stdout).filter((e) => e.type === 'text').map((e) => e.text);
    expect(texts).toEqual(expect.arrayContaining(['stdout line: two words', 'stderr line']));
    const status = await runCli(['status', '--all', '--json'], { env: env(home) });
    expect(status.code, status.stderr).toBe(0);
    const rows = parseNdjson(status.stdout).flatMap((l) => ((l.repos ?? []) as Array<{ sessions: Array<Record<string, unknown>> }>).flatMap((g) => g.sessions));
    expect(rows.find((x) => x.id === s.sessionId)?.agent).toBe('command');
    if (provider === 'docker') expect(leftoverContainers([String(s.sessionId)])).toEqual([]);
  });

  it('runs a system program by name (nothing mounted); a non-zero exit is a failed run that keeps the work', async () => {
    const repo = makeRepo();
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'command', '--agent-command', `sh -c "cat > got.txt; echo 'a;b' \\$0; exit 7"`, '--json'], { env: env(tempDir()) });
    expect(r.code).toBe(1);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('failed');
    expect(String(s.error)).toMatch(/the agent exited with code 7$/);
    expect(git(repo, 'show', `${String(s.branch)}:got.txt`)).toBe('p');
    // The command line was split into words, not run by a shell: the quoted script is one argument of sh.
    expect(parseNdjson(r.stdout).filter((e) => e.type === 'text').map((e) => e.text)).toContain('a;b sh');
  });

  it('a missing agent is exit 3 with how to install it; a missing --agent-command or unknown agent is exit 2; nothing is registered', async () => {
    const repo = makeRepo();
    const home = tempDir();
    const missing = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'command', '--agent-command', 'no-such-agent-pcc --x'], { env: env(home) });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot find the agent command "no-such-agent-pcc": not on PATH/);
    expect(missing.stderr).toMatch(/Install the program/);
    const missingClaude = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p'], { env: { ...env(home), ANTHROPIC_API_KEY: 'sk-ant-x', PARALLEL_CC_CLAUDE_BIN: join(home, 'nope') } });
    expect(missingClaude.code).toBe(3);
    expect(missingClaude.stderr).toMatch(/PARALLEL_CC_CLAUDE_BIN=.* is not an executable file/);
    const noCommand = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'command'], { env: env(home) });
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toMatch(/--agent-command/);
    const unknown = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'nope'], { env: env(home) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/agentCli/);
    const status = await runCli(['status', '--all', '--json'], { env: env(home) });
    expect(parseNdjson(status.stdout)[0]?.total).toBe(0);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
  });
});

describe('doctor and the configured agent', () => {
  it('checks the configured agent (config file included) and needs no model key for the command agent', async () => {
    const home = tempDir();
    const r = await runCli(['doctor', '--json'], { env: { ...env(home), PARALLEL_CC_AGENT_CLI: 'command', PARALLEL_CC_AGENT_COMMAND: 'sh -c true' } });
    const checks = (parseNdjson(r.stdout)[0]?.checks ?? []) as Array<{ name: string; ok: boolean; required: boolean; detail: string }>;
    expect(checks.find((c) => c.name === 'command')).toMatchObject({ ok: true, required: true, detail: 'sh (the sandbox\'s own)' });
    expect(checks.find((c) => c.name === 'anthropic credentials')).toMatchObject({ ok: false, required: false });
    // claudeBin from ~/.parallel-cc/sandbox.json is the binary doctor checks, as a run would use it.
    writeFiles(home, { 'sandbox.json': JSON.stringify({ claudeBin: join(home, 'no-claude') }) });
    const d = await runCli(['doctor', '--json'], { env: env(home) });
    const claude = ((parseNdjson(d.stdout)[0]?.checks ?? []) as Array<{ name: string; ok: boolean; detail: string }>).find((c) => c.name === 'claude');
    expect(claude).toMatchObject({ ok: false });
    expect(claude?.detail).toContain(join(home, 'no-claude'));
  });
});
