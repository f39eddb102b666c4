/**
 * runSession over the tempdir fake provider with a scripted agent (a shell script in claude's place,
 * speaking its stream-json): the fast harness of the orchestrator's unit tests (run-session,
 * finish-session). No sandbox, no model server.
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { agentFor } from '../../src/agents/registry.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { homePaths } from '../../src/core/context.js';
import type { RunSummary, StreamEvent } from '../../src/core/events.js';
import { runSession, type RunRequest } from '../../src/core/run.js';
import { openDb, type Db } from '../../src/store/db.js';
import { SessionRepository, type Session } from '../../src/store/sessions.js';
import { FakeProvider } from '../fixtures/fake-provider/index.js';
import { makeRepo, tempDir } from './git-repo.js';

/** A successful end of a claude run. */
export const RESULT = JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'done', total_cost_usd: 0.0123, usage: { input_tokens: 10, output_tokens: 5 } });
const INIT = JSON.stringify({ type: 'system', subtype: 'init', model: 'scripted' });
/** The prompt every run gets (multi-line, non-ASCII: stdin must be byte-exact). */
export const PROMPT = 'write hello.txt\nand commit it — «exactly» as told\n';

/** A scripted agent in claude's place: reads the prompt on stdin (into `$prompt`), then runs `body` in the workdir. */
export function agent(body: string): string {
  const path = join(tempDir('pcc-agent-'), 'claude');
  writeFileSync(path, `#!/bin/sh\nset -e\nprompt=$(cat; echo .)\necho '${INIT}'\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

let dbs: Db[] = [];
afterEach(() => {
  dbs.forEach((d) => d.close());
  dbs = [];
});

/** One fake run's results. */
export interface FakeRun {
  repo: string;
  home: string;
  summary: RunSummary;
  row: Session | undefined;
  sessions: SessionRepository;
  provider: FakeProvider;
  events: StreamEvent[];
}

/** One run of `agentPath` over a fresh repo and home, with the fake provider. */
export async function fakeRun(agentPath: string, opts: { provider?: FakeProvider; timeoutMinutes?: number; keepSandbox?: boolean } = {}): Promise<FakeRun> {
  const repo = makeRepo({ 'README.md': '# unit\n' });
  const home = tempDir('pcc-home-');
  const db = openDb(homePaths(home).db);
  dbs.push(db);
  const sessions = new SessionRepository(db);
  const provider = opts.provider ?? new FakeProvider();
  const events: StreamEvent[] = [];
  const sink = { write: () => true };
  const req: RunRequest = { repo, prompt: PROMPT, provider: provider.name, timeoutMinutes: opts.timeoutMinutes ?? 1, allowDomains: [], keepSandbox: opts.keepSandbox ?? false };
  const summary = await runSession(req, {
    ctx: { cwd: repo, env: { ...process.env, HOME: home, ANTHROPIC_API_KEY: `sk-ant-unit-${'u'.repeat(24)}` }, home, now: () => new Date(), stdout: sink, stderr: sink, signal: new AbortController().signal },
    config: ConfigSchema.parse({ claudeBin: agentPath }),
    sessions,
    provider,
    agent: agentFor('claude'),
    emit: (e) => events.push(e),
  });
  return { repo, home, summary, row: sessions.get(summary.sessionId), sessions, provider, events };
}

/** Every sandbox the run created is gone (folder and all). */
export const sandboxesGone = (p: FakeProvider): boolean => p.created.length > 0 && p.created.every((s) => !existsSync(join(s.workdir, '..')));
