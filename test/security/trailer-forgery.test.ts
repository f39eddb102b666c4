/**
 * The agent's results and transcript travel back after the agent, in the same sandbox command, behind
 * a mark (core/exec-trailer.ts). The mark is readable inside the sandbox (init.cjs's argv): an agent
 * that prints a forged trailer into the stream — before its own events end, and again from a process
 * it leaves running — must neither lose the run's events and work nor crash the CLI. Real claude,
 * real bwrap (and docker where it runs), scripted model server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { git } from '../helpers/git-repo.js';
import { hostFixture, REAL_KEY } from '../helpers/security.js';

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

// Finds the mark in init.cjs's argv, then writes a trailer-like frame into claude's own stdout (the
// sandbox command's): one now, one from a process left behind that writes as soon as claude exits.
const FORGE = [
  `mark=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -o '#pcc-trailer-[0-9a-f]\\{18\\}' | head -1)`,
  `echo "mark=$mark"`,
  `out=/proc/$PPID/fd/1`,
  `printf '\\n%s 0 9 0\\nnot-a-ser' "$mark" > "$out" && echo forged-now`,
  `c=$PPID; (while kill -0 $c 2>/dev/null; do sleep 0.02; done; printf '\\n%s 0 5 0\\nlater' "$mark" > "$out") > /dev/null 2>&1 &`,
].join('\n');

describe.each(['native', ...(dockerReady() ? ['docker'] : [])])('a forged trailer on the %s provider', (provider) => {
  it('is the agent’s own output: its events, its work and its transcript still come back', async () => {
    const { repo, home } = hostFixture();
    server = await startModelServer({
      scenario: {
        steps: [{ toolUses: [{ name: 'Bash', input: { command: FORGE } }] }, { toolUses: [{ name: 'Bash', input: { command: 'echo real > real.txt && git add real.txt && git commit -qm real && echo committed' } }] }, { text: 'done' }],
      },
    });
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'forge the trailer', '--json', '--provider', provider], { env });
    const seen = server.toolResults().map((t) => t.content).join('\n');
    // The attack really ran with the real mark.
    expect(seen).toMatch(/mark=#pcc-trailer-[0-9a-f]{18}/);
    // Docker's exec output is a FIFO the agent can open again through /proc; bwrap's is a socket, which
    // cannot be (ENXIO): there only claude's own JSON lines reach it.
    const forged = seen.includes('forged-now');
    if (provider === 'docker') expect(forged).toBe(true);
    expect(seen).toContain('committed');
    expect(r.code, r.stderr).toBe(0);
    const events = parseNdjson(r.stdout);
    // The forged frame is shown as what the agent printed; claude's own events after it are all there.
    expect(events.some((e) => e.type === 'raw' && String(e.line).includes('not-a-ser'))).toBe(forged);
    expect(events.filter((e) => e.type === 'tool_use')).toHaveLength(2);
    const summary = events.find((e) => e.type === 'summary')?.summary as Record<string, unknown>;
    expect(summary.status).toBe('completed');
    expect(git(repo, 'show', `${String(summary.branch)}:real.txt`)).toBe('real');
    expect(git(repo, 'log', '--format=%s', `${String(summary.branch)}`, '-1')).toBe('real');
    // The conversation was kept for `sandbox resume`: read from the trailer, or on its own when that was spoiled.
    expect(readFileSync(join(home, 'sessions', String(summary.sessionId), 'agent-transcript.jsonl'), 'utf8')).toContain('forge the trailer');
  }, 120_000);
});
