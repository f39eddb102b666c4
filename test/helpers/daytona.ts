/**
 * Shared set-up of the Daytona integration tests: one local Daytona emulator per test file, the
 * scripted model server of the current test, the CLI environment pointing at both (the real
 * `@daytonaio/sdk` polls: DAYTONA_USE_DEPRECATED_POLLING), and a run whose CLI is SIGKILLed while
 * its agent keeps working in the sandbox.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startDaytonaEmulator, type DaytonaEmulator, type DaytonaEmulatorOptions, type DaytonaSandboxInfo } from '../fixtures/daytona/index.js';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from './cli.js';

/** The model API key of the tests (it must reach the agent's env only). */
export const DAYTONA_MODEL_KEY = `sk-ant-dtn-${'m'.repeat(24)}`;
/** The API key the emulator accepts. */
export const DAYTONA_KEY = `dtn_${'k'.repeat(64)}`;

/** A Bash tool call of a scenario. */
export const bash = (command: string, timeout?: number): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, ...(timeout ? { timeout } : {}) } }] });

/** What a test file gets from {@link useDaytona}. */
export interface DaytonaHarness {
  emulator(): DaytonaEmulator;
  serve(scenario: Scenario): Promise<ModelServer>;
  env(home: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  sandboxOf(sessionId: string): DaytonaSandboxInfo | undefined;
  statusRow(home: string, id: string): Promise<Record<string, unknown>>;
  /** A run whose agent writes first.txt, works 4 s, writes second.txt; its CLI is SIGKILLed meanwhile. */
  killedMidRun(home: string, repo: string, extraEnv?: NodeJS.ProcessEnv): Promise<string>;
}

/** Registers the hooks of a Daytona test file and returns its helpers. */
export function useDaytona(opts: Partial<DaytonaEmulatorOptions> = {}): DaytonaHarness {
  let emulator: DaytonaEmulator | undefined;
  let server: ModelServer | undefined;
  beforeAll(async () => {
    emulator = await startDaytonaEmulator({ apiKey: DAYTONA_KEY, ...opts });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  afterEach(async () => {
    emulator?.fault(undefined);
    await server?.close();
    server = undefined;
  });
  const emu = (): DaytonaEmulator => {
    if (!emulator) throw new Error('the Daytona emulator is not running');
    return emulator;
  };
  const h: DaytonaHarness = {
    emulator: emu,
    serve: async (scenario) => (server = await startModelServer({ scenario })),
    env: (home, extra = {}) => ({
      ...process.env,
      PARALLEL_CC_HOME: home,
      ANTHROPIC_BASE_URL: server?.url,
      ANTHROPIC_API_KEY: DAYTONA_MODEL_KEY,
      DAYTONA_API_KEY: DAYTONA_KEY,
      DAYTONA_API_URL: emu().apiUrl,
      DAYTONA_USE_DEPRECATED_POLLING: 'true',
      NO_COLOR: '1',
      ...extra,
    }),
    sandboxOf: (sessionId) => emu().sandboxes().find((s) => s.labels['parallel-cc.session'] === sessionId),
    statusRow: async (home, id) => {
      const r = await runCli(['status', '--all', '--json'], { env: h.env(home) });
      const out = JSON.parse(r.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> };
      return out.repos.flatMap((x) => x.sessions).find((s) => s.id === id) ?? {};
    },
    killedMidRun: async (home, repo, extraEnv = {}) => {
      await h.serve({
        steps: [
          { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/first.txt', content: 'first\n' } }] },
          bash(`node -e "setTimeout(() => {}, 4000)"`, 60000),
          { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/second.txt', content: 'second\n' } }] },
          { text: 'finished the work' },
        ],
      });
      const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', 'daytona', '--skip-claude-update', '--json'], { env: h.env(home, extraEnv) });
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
