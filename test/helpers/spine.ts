/**
 * The spine scenario: the one end-to-end story every provider's and every agent's e2e test runs.
 * Starting from {@link SPINE_FILES}, the agent adds two files, renames one, makes one executable and
 * commits; then it writes a CRLF/UTF-8 file and deletes a tracked one without committing. The branch
 * that lands must hold exactly {@link SPINE_TREE} in two commits ({@link SPINE_LOG}), whatever the
 * provider or agent — so "the same branch contents as native" is one exact expectation, not a second run.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, type CliResult } from './cli.js';
import { git, makeRepo, tempDir, writeFiles } from './git-repo.js';

/** The repository every spine run starts from. */
export const SPINE_FILES: Readonly<Record<string, string>> = { 'keep.txt': 'keep me\n', 'obsolete.txt': 'old\n', 'tool.sh': 'echo tool\n', '.gitignore': 'node_modules/\n' };

const NOTES = 'uncommitted ✓ notes\r\nline 2\n';

/** The spine for the claude agent (scripted model server; `{{cwd}}` is the agent's working folder). */
export const SPINE_SCENARIO: Scenario = {
  steps: [
    { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/hello.txt', content: 'hello from the agent\n' } }] },
    { toolUses: [{ name: 'Bash', input: { command: `node -e "require('fs').writeFileSync('out.txt', String(6*7))"` } }] },
    { toolUses: [{ name: 'Bash', input: { command: "git mv keep.txt renamed.txt && chmod +x tool.sh && git add -A && git commit -q -m 'agent: add hello and out'" } }] },
    { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/notes.md', content: NOTES } }, { name: 'Bash', input: { command: 'git rm -q obsolete.txt' } }] },
    { text: 'done', usage: { input_tokens: 1200, output_tokens: 300 } },
  ],
};

/** The spine for the `command` agent: the same edits as a POSIX sh script (no node needed in the sandbox). */
export const SPINE_SCRIPT = `#!/bin/sh
set -e
cat > /dev/null
printf 'hello from the agent\\n' > hello.txt
printf 42 > out.txt
git mv keep.txt renamed.txt
chmod +x tool.sh
git add -A
git commit -q -m 'agent: add hello and out'
printf 'uncommitted ✓ notes\\r\\nline 2\\n' > notes.md
git rm -q obsolete.txt
echo 'spine: done'
`;

/** The branch's commits, newest first. */
export const SPINE_LOG = ['parallel-cc: uncommitted work', 'agent: add hello and out'];

/** What the branch holds: path → [mode, bytes]. */
export const SPINE_TREE: Readonly<Record<string, readonly [string, string]>> = {
  '.gitignore': ['100644', 'node_modules/\n'],
  'hello.txt': ['100644', 'hello from the agent\n'],
  'notes.md': ['100644', NOTES],
  'out.txt': ['100644', '42'],
  'renamed.txt': ['100644', 'keep me\n'],
  'tool.sh': ['100755', 'echo tool\n'],
};

/** Writes {@link SPINE_SCRIPT} to an executable temp file and returns its path. */
export function spineScript(): string {
  const dir = tempDir('pcc-spine-');
  writeFiles(dir, { 'agent.sh': SPINE_SCRIPT });
  chmodSync(join(dir, 'agent.sh'), 0o755);
  return join(dir, 'agent.sh');
}

/** Asserts that `branch` of `repo` is the spine's result, byte for byte and mode for mode. */
export function expectSpineBranch(repo: string, branch: string): void {
  expect(git(repo, 'log', '--format=%s', `main..${branch}`).split('\n')).toEqual(SPINE_LOG);
  const entries = git(repo, 'ls-tree', '-r', branch).split('\n').map((l) => {
    const [meta = '', path = ''] = l.split('\t');
    const [mode = '', , oid = ''] = meta.split(' ');
    return { path, mode, oid };
  });
  expect(entries.map((e) => e.path).sort()).toEqual(Object.keys(SPINE_TREE).sort());
  for (const e of entries) {
    const [mode, bytes] = SPINE_TREE[e.path] ?? ['', ''];
    expect(e.mode, e.path).toBe(mode);
    expect(execFileSync('git', ['-C', repo, 'cat-file', 'blob', e.oid]).toString('utf8'), e.path).toBe(bytes);
  }
}

/** One spine run's results. */
export interface SpineRun extends CliResult {
  repo: string;
  summary: Record<string, unknown>;
  events: Array<Record<string, unknown>>;
}

/** Options of {@link runSpine}. */
export interface SpineOptions {
  provider: string;
  /** The CLI's environment (model server URL and key, provider credentials, PARALLEL_CC_HOME). */
  env: NodeJS.ProcessEnv;
  /** `claude` (default; the model server must serve {@link SPINE_SCENARIO}) or `command` ({@link SPINE_SCRIPT}). */
  agent?: 'claude' | 'command';
  /** More `sandbox run` arguments. */
  args?: string[];
}

/**
 * Runs the spine through `sandbox run --json` on a fresh repo and asserts that it completed and that
 * its branch is {@link SPINE_TREE}; returns the run for provider-specific checks.
 */
export async function runSpine(opts: SpineOptions): Promise<SpineRun> {
  const repo = makeRepo({ ...SPINE_FILES });
  const agent = opts.agent === 'command' ? ['--agent-cli', 'command', '--agent-command', spineScript()] : [];
  const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'do the work', '--provider', opts.provider, ...agent, ...(opts.args ?? []), '--json'], { env: opts.env });
  expect(r.code, `${opts.provider}: ${r.stderr}`).toBe(0);
  const events = parseNdjson(r.stdout);
  const summary = (events.find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
  expect(summary.status).toBe('completed');
  expectSpineBranch(repo, String(summary.branch));
  return { ...r, repo, summary, events };
}
