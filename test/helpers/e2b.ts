/**
 * Shared set-up of the E2B integration tests: one local E2B emulator per test file, the scripted
 * model server of the current test, the CLI environment pointing at both, and a run whose CLI is
 * SIGKILLed while its agent keeps working in the sandbox.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startE2BEmulator, type E2BEmulator, type EmulatedSandboxInfo } from '../fixtures/e2b/index.js';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from './cli.js';

const KEY = `sk-ant-e2b-${'e'.repeat(24)}`;
/** The API key the emulator accepts. */
export const E2B_KEY = `e2b_${'k'.repeat(32)}`;

/** A Bash tool call of a scenario. */
export const bash = (command: string, timeout?: number): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, ...(timeout ? { timeout } : {}) } }] });

/** What a test file gets from {@link useE2B}. */
export interface E2BHarness {
  emulator(): E2BEmulator;
  /** Starts the model server for this test (closed after it). */
  serve(scenario: Scenario): Promise<ModelServer>;
  env(home: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  sandboxOf(sessionId: string): EmulatedSandboxInfo | undefined;
  statusRow(home: string, id: string): Promise<Record<string, unknown>>;
  /** A run whose agent writes first.txt, works 4 s, writes second.txt; its CLI is SIGKILLed meanwhile. */
  killedMidRun(home: string, repo: string): Promise<string>;
}

/** Registers the hooks of an E2B test file and returns its helpers. */
export function useE2B(): E2BHarness {
  let emulator: E2BEmulator | undefined;
  let server: ModelServer | undefined;
  beforeAll(async () => {
    emulator = await startE2BEmulator({ apiKey: E2B_KEY });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  afterEach(async () => {
    emulator?.fault(undefined);
    emulator?.networkRules(true);
    await server?.close();
    server = undefined;
  });
  const emu = (): E2BEmulator => {
    if (!emulator) throw new Error('the E2B emulator is not running');
    return emulator;
  };
  const h: E2BHarness = {
    emulator: emu,
    serve: async (scenario) => (server = await startModelServer({ scenario })),
    env: (home, extra = {}) => ({
      ...process.env,
      PARALLEL_CC_HOME: home,
      ANTHROPIC_BASE_URL: server?.url,
      ANTHROPIC_API_KEY: KEY,
      E2B_API_KEY: E2B_KEY,
      E2B_API_URL: emu().apiUrl,
      E2B_SANDBOX_URL: emu().sandboxUrl,
      NO_COLOR: '1',
      ...extra,
    }),
    sandboxOf: (sessionId) => emu().sandboxes().find((s) => s.metadata['parallel-cc.session'] === sessionId),
    statusRow: async (home, id) => {
      const r = await runCli(['status', '--all', '--json'], { env: h.env(home) });
      const out = JSON.parse(r.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> };
      return out.repos.flatMap((x) => x.sessions).find((s) => s.id === id) ?? {};
    },
    killedMidRun: async (home, repo) => {
      await h.serve({
        steps: [
          { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/first.txt', content: 'first\n' } }] },
          bash(`node -e "setTimeout(() => {}, 4000)"`, 60000),
          { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/second.txt', content: 'second\n' } }] },
          { text: 'finished the work' },
        ],
      });
      const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', 'e2b', '--skip-claude-update', '--json'], { env: h.env(home) });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      await expect.poll(() => out.includes('setTimeout'), { timeout: 60_000, interval: 100 }).toBe(true);
      child.kill('SIGKILL');
      await done;
      return String(parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1)).find((e) => typeof e.sessionId === 'string')?.sessionId);
    },
  };
  return h;
}
