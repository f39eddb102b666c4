/**
 * Shared set-up of the Cloudflare integration tests: one bridge emulator per test file (the real
 * bridge Worker over bubblewrap containers, every exchange checked against its OpenAPI schema — the
 * file fails on any violation), the scripted model server of the current test, the CLI environment
 * pointing at both, and a run whose CLI is SIGKILLed while its agent keeps working.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { newBridgeKey, startCloudflareEmulator, type CloudflareEmulator, type CloudflareEmulatorOptions } from '../fixtures/cloudflare/index.js';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from './cli.js';

const KEY = `sk-ant-cf-${'c'.repeat(24)}`;

/** A Bash tool call of a scenario. */
export const bash = (command: string, timeout?: number): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, ...(timeout ? { timeout } : {}) } }] });

/** What a test file gets from {@link useCloudflare}. */
export interface CloudflareHarness {
  emulator(): CloudflareEmulator;
  /** The bridge's SANDBOX_API_KEY. */
  key: string;
  serve(scenario: Scenario): Promise<ModelServer>;
  env(home: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  statusRow(home: string, id: string): Promise<Record<string, unknown>>;
  /** A run whose agent writes first.txt, works 4 s, writes second.txt; its CLI is SIGKILLed meanwhile. Returns the session id. */
  killedMidRun(home: string, repo: string, extra?: NodeJS.ProcessEnv): Promise<string>;
}

/** Registers the hooks of a Cloudflare test file and returns its helpers. */
export function useCloudflare(opts: Partial<CloudflareEmulatorOptions> = {}): CloudflareHarness {
  let emulator: CloudflareEmulator | undefined;
  let server: ModelServer | undefined;
  const key = newBridgeKey();
  beforeAll(async () => {
    emulator = await startCloudflareEmulator({ apiKey: key, ...opts });
  });
  afterAll(async () => {
    await emulator?.close();
    // The acceptance bar: zero schema violations across the whole file, requests and responses.
    expect(emulator?.violations ?? []).toEqual([]);
  });
  afterEach(async () => {
    emulator?.fault(undefined);
    emulator?.setApiKey(key);
    await server?.close();
    server = undefined;
  });
  const emu = (): CloudflareEmulator => {
    if (!emulator) throw new Error('the Cloudflare emulator is not running');
    return emulator;
  };
  const h: CloudflareHarness = {
    emulator: emu,
    key,
    serve: async (scenario) => (server = await startModelServer({ scenario })),
    env: (home, extra = {}) => ({
      ...process.env,
      PARALLEL_CC_HOME: home,
      ANTHROPIC_BASE_URL: server?.url,
      ANTHROPIC_API_KEY: KEY,
      CLOUDFLARE_SANDBOX_URL: emu().url,
      SANDBOX_API_KEY: key,
      // The spec's 300 s would cut these runs' --timeout; each test that is about it sets its own.
      PARALLEL_CC_CF_SANDBOX_TIMEOUT: '3600',
      NO_COLOR: '1',
      ...extra,
    }),
    statusRow: async (home, id) => {
      const r = await runCli(['status', '--all', '--json'], { env: h.env(home) });
      const out = JSON.parse(r.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> };
      return out.repos.flatMap((x) => x.sessions).find((s) => s.id === id) ?? {};
    },
    killedMidRun: async (home, repo, extra = {}) => {
      await h.serve({
        steps: [
          { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/first.txt', content: 'first\n' } }] },
          bash(`node -e "setTimeout(() => {}, 4000)"`, 60000),
          { toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/second.txt', content: 'second\n' } }] },
          { text: 'finished the work' },
        ],
      });
      const { child, done } = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', 'cloudflare', '--skip-claude-update', '--json'], { env: h.env(home, extra) });
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
