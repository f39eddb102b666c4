/**
 * Rate limits across processes: with `limits.native.maxConcurrentSandboxes: 1`, two CLIs started at
 * once run one after the other — the second says it is waiting for a slot, and never fails.
 */
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

describe('rate limits', () => {
  it('two runs at once under maxConcurrentSandboxes 1: one waits (visibly) for the other, both complete', async () => {
    const home = tempDir();
    writeFiles(home, { 'sandbox.json': JSON.stringify({ limits: { native: { maxConcurrentSandboxes: 1 } } }) });
    const env = { ...process.env, PARALLEL_CC_HOME: home, NO_COLOR: '1' };
    const run = () => runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'p', '--agent-cli', 'command', '--agent-command', 'sh -c "date +%s%N > t.txt; sleep 2; date +%s%N >> t.txt"', '--json'], { env });
    const results = await Promise.all([run(), run()]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const waited = results.filter((r) => parseNdjson(r.stdout).some((e) => e.type === 'phase' && /^waiting for a sandbox slot: 1 of 1 native sandboxes in use/.test(String(e.message))));
    expect(waited).toHaveLength(1);
    // The agents did not overlap: each wrote its start and end time (ns) on its branch.
    const spans = results
      .map((r) => {
        const s = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as { repo: string; branch: string };
        return git(s.repo, 'show', `${s.branch}:t.txt`).split('\n').map((x) => Number(BigInt(x) / 1_000_000n));
      })
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(spans[1]?.[0]).toBeGreaterThanOrEqual(spans[0]?.[1] as number);
    const bad = await runCli(['sandbox', 'run', '--repo', makeRepo(), '--prompt', 'p'], { env: { ...env, PARALLEL_CC_HOME: (() => { const h = tempDir(); writeFiles(h, { 'sandbox.json': JSON.stringify({ limits: { nope: { maxConcurrentSandboxes: 1 } } }) }); return h; })() } });
    expect(bad.code).toBe(2);
  });
});
