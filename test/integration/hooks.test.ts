/**
 * Lifecycle hooks (`--setup`, `--on-success`, `--on-failure`) run inside the sandbox on native and
 * docker: setup output precedes the agent's and what it makes is not the agent's work; a failing
 * check fails the session (reason check_failed) while the agent's commits land; what the check writes
 * is not collected; a hook writing to $HOME changes nothing on the host; results on the row, in the
 * summary and in --multi's summary. The `command` agent stands in for a model agent (the hooks are
 * agent-neutral), so no model server is needed.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli, summaryOf } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const AGENT = `#!/bin/sh
set -e
cat > /dev/null
echo "agent: working"
ls setup-made.txt
echo work > work.txt
git add work.txt && git commit -q -m 'agent: work'
echo "agent: done"
`;

function agentScript(body = AGENT): string {
  const dir = tempDir('pcc-hook-agent-');
  writeFiles(dir, { 'agent.sh': body });
  chmodSync(join(dir, 'agent.sh'), 0o755);
  return join(dir, 'agent.sh');
}

function env(): NodeJS.ProcessEnv & { HOME: string } {
  const e = { ...process.env, PARALLEL_CC_HOME: tempDir(), HOME: tempDir('pcc-hook-userhome-'), NO_COLOR: '1' };
  return e;
}
const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe('lifecycle hooks', () => {
  it.each(PROVIDERS)('%s: setup runs first in the sandbox, a failing --on-success fails the session with check_failed and the work still lands; the check’s own writes are not collected; $HOME on the host is untouched', async (provider) => {
    const repo = makeRepo({ 'README.md': '# r\n' });
    const e = env();
    const r = await runCli(
      ['sandbox', 'run', '--repo', repo, '--provider', provider, '--prompt', 'p', '--agent-cli', 'command', '--agent-command', agentScript(),
        '--setup', 'echo "setup: hello"; echo made > setup-made.txt; echo pwned > "$HOME/pcc-hook-was-here"',
        '--on-success', 'echo "check: running"; echo built > dist.txt; exit 3', '--json'],
      { env: e },
    );
    expect(r.code, r.stderr).toBe(1);
    const events = parseNdjson(r.stdout);
    const s = summaryOf(r.stdout);
    expect(s).toMatchObject({ status: 'failed', reason: 'check_failed' });
    expect(String(s.error)).toBe('check failed: `echo "check: running"; echo built > dist.txt; exit 3` exited with code 3');
    // Order: the setup's output, then the agent's, then the check's.
    const order = events.filter((x) => x.type === 'hook' || x.type === 'text').map((x) => String(x.text));
    expect(order).toEqual(['setup: hello', 'agent: working', 'setup-made.txt', 'agent: done', 'check: running']);
    expect(events.filter((x) => x.type === 'hook').map((x) => x.hook)).toEqual(['setup', 'on_success']);
    // The agent's commit landed; neither the setup's nor the check's files did.
    const branch = String(s.branch);
    expect(git(repo, 'log', '--format=%s', `main..${branch}`)).toBe('agent: work');
    expect(git(repo, 'ls-tree', '-r', '--name-only', branch).split('\n').sort()).toEqual(['README.md', 'work.txt']);
    // The hooks ran in the sandbox: the host's HOME got nothing.
    expect(existsSync(join(e.HOME, 'pcc-hook-was-here'))).toBe(false);
    const hooks = s.hooks as Array<Record<string, unknown>>;
    expect(hooks.map((h) => [h.hook, h.exitCode, h.timedOut])).toEqual([
      ['setup', 0, false],
      ['on_success', 3, false],
    ]);
    const status = await runCli(['status', '--all', '--json'], { env: e });
    const row = (JSON.parse(status.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> }).repos.flatMap((g) => g.sessions).find((x) => x.id === s.sessionId);
    expect(row).toMatchObject({ status: 'failed', reason: 'check_failed' });
    expect((JSON.parse(String(row?.hooks)) as unknown[]).length).toBe(2);
  });

  it('a passing check completes; --on-failure runs after a failed agent; a failing setup stops before the agent; a hook past its timeout is stopped', async () => {
    const repo = makeRepo({ 'README.md': '# r\n' });
    const e = env();
    const base = ['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'command', '--json'];
    const ok = await runCli([...base, '--agent-command', 'sh -c "echo ok > ok.txt"', '--on-success', 'test -f ok.txt', '--on-failure', 'echo never'], { env: e });
    expect(ok.code, ok.stderr).toBe(0);
    expect((summaryOf(ok.stdout).hooks as Array<Record<string, unknown>>).map((h) => [h.hook, h.exitCode])).toEqual([['on_success', 0]]);
    const failed = await runCli([...base, '--agent-command', 'sh -c "echo half > half.txt; exit 7"', '--on-success', 'echo never', '--on-failure', 'echo "collecting logs"; exit 5'], { env: e });
    expect(failed.code).toBe(1);
    const fs = summaryOf(failed.stdout);
    expect(fs).toMatchObject({ status: 'failed', reason: 'agent_failed' });
    expect((fs.hooks as Array<Record<string, unknown>>).map((h) => [h.hook, h.exitCode])).toEqual([['on_failure', 5]]);
    expect(git(repo, 'show', `${String(fs.branch)}:half.txt`)).toBe('half');
    const marker = join(tempDir(), 'agent-ran');
    const setup = await runCli([...base, '--agent-command', `touch ${marker}`, '--setup', 'echo "no npm here" >&2; exit 9'], { env: e });
    expect(setup.code).toBe(3);
    expect(summaryOf(setup.stdout)).toMatchObject({ status: 'failed', reason: 'setup_failed', error: 'setup failed: `echo "no npm here" >&2; exit 9` exited with code 9' });
    expect(parseNdjson(setup.stdout).find((x) => x.type === 'hook')).toMatchObject({ hook: 'setup', stream: 'stderr', text: 'no npm here' });
    expect(existsSync(marker)).toBe(false);
    const started = Date.now();
    const slow = await runCli([...base, '--agent-command', 'true', '--on-success', 'sleep 30', '--hook-timeout', '2s'], { env: e });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(summaryOf(slow.stdout)).toMatchObject({ status: 'failed', reason: 'check_failed', error: 'check failed: `sleep 30` timed out' });
  });

  it('--multi: every task runs the hooks and its summary carries their results; bad hook flags are exit 2 before anything is created', async () => {
    const repo = makeRepo({ 'README.md': '# r\n' });
    const e = env();
    const out = tempDir('pcc-hook-multi-');
    const r = await runCli(['sandbox', 'run', '--multi', '--repo', repo, '--task', 'a', '--task', 'b', '--agent-cli', 'command', '--agent-command', 'sh -c "cat > t.txt"', '--on-success', 'grep -q . t.txt', '--output-dir', out, '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { tasks: Array<{ hooks?: Array<{ hook: string; exitCode: number }> }> };
    expect(summary.tasks.map((t) => t.hooks?.map((h) => [h.hook, h.exitCode]))).toEqual([[['on_success', 0]], [['on_success', 0]]]);
    for (const bad of [['--setup', ' '], ['--hook-timeout', '0'], ['--hook-timeout', '2h']]) {
      const b = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', '--agent-cli', 'command', '--agent-command', 'true', ...bad], { env: e });
      expect(b.code, bad.join(' ')).toBe(2);
    }
    const status = await runCli(['status', '--all', '--json'], { env: e });
    expect((JSON.parse(status.stdout) as { total: number }).total).toBe(2);
  });
});
