/**
 * --upload-repo on a cloud provider (the real E2B SDK against the local emulator): the bundle
 * travels in the streamed tar.gz like any upload, the sandbox repo gets the host history, and the
 * agent's commit comes back through the same import.
 */
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { bash, useE2B } from '../helpers/e2b.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const e2b = useE2B();

describe('--upload-repo on e2b', () => {
  it('gives the sandbox the host history and still imports the agent\'s commit', async () => {
    const server = await e2b.serve({ steps: [bash('git log --oneline | wc -l'), bash('echo e2b > e2b.txt && git add e2b.txt && git commit -qm "agent: e2b"'), { text: 'done' }] });
    const repo = makeRepo();
    writeFiles(repo, { 'two.txt': '2\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'host commit 2');
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'go', '--provider', 'e2b', '--skip-claude-update', '--upload-repo', '--json'], { env: e2b.env(tempDir()) });
    expect(r.code, r.stderr).toBe(0);
    const summary = (parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
    expect(server.toolResults()[0]?.content.trim()).toBe('2');
    expect(git(repo, 'log', '--format=%s', `main..${String(summary.branch)}`)).toBe('agent: e2b');
  });
});
