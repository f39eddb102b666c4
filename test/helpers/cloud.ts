/**
 * What the cloud providers' integration tests share: one emulator per test file, the scripted model
 * server of the current test, the CLI environment pointing at both, the session's row from
 * `status`, and a run whose CLI is SIGKILLed while its agent keeps working in the sandbox. Each
 * provider's helper (e2b.ts, daytona.ts, cloudflare.ts) says only what differs: how its emulator
 * starts, resets and is reached.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from './cli.js';
import { git, tempDir } from './git-repo.js';

/** A Bash tool call of a scenario. */
export const bash = (command: string, timeout?: number): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, ...(timeout ? { timeout } : {}) } }] });

/** What a cloud provider's helper tells {@link useCloud}. */
export interface CloudSetup<E extends { close(): Promise<void> }> {
  provider: string;
  /** The model API key the tests give the CLI (it must reach the agent's env only). */
  modelKey: string;
  start(): Promise<E>;
  /** Undoes what a test may have changed on the emulator (faults, keys, rules). */
  reset(emulator: E): void;
  /** The provider's own variables of the CLI environment. */
  env(emulator: E): NodeJS.ProcessEnv;
  /** Checked once the emulator closed (e.g. zero schema violations across the file). */
  afterClose?(emulator: E): void;
}

/** The helpers every cloud test file gets. */
export interface CloudHarness<E> {
  emulator(): E;
  /** Starts the model server for this test (closed after it). */
  serve(scenario: Scenario): Promise<ModelServer>;
  env(home: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  statusRow(home: string, id: string): Promise<Record<string, unknown>>;
  /** A run whose agent writes first.txt, works 4 s, writes second.txt; its CLI is SIGKILLed meanwhile. Returns the session id. */
  killedMidRun(home: string, repo: string, extra?: NodeJS.ProcessEnv): Promise<string>;
  /** `cleanup` leaves the orphaned session of {@link killedMidRun} alone while its agent still works. */
  expectKeptByCleanup(home: string, id: string): Promise<void>;
  /**
   * `logs --follow` reattaches and follows that agent to its end: each agent line once and in order
   * (what the dead CLI logged is not replayed). Returns the followed events.
   */
  followToEnd(home: string, id: string): Promise<Array<Record<string, unknown>>>;
  /** `sandbox health --json` of a session. */
  health(home: string, id: string): Promise<Record<string, unknown>>;
  /** `sandbox download` from the live sandbox: first.txt and second.txt are there. */
  expectLiveDownload(home: string, id: string): Promise<void>;
  /** `sandbox kill --keep-worktree`: the session is killed and its branch holds second.txt. Returns the kill report. */
  killKeepingWork(home: string, repo: string, id: string): Promise<{ status: string; branch: string; commits?: number }>;
}

/** Registers the hooks of a cloud provider's test file and returns its helpers. */
export function useCloud<E extends { close(): Promise<void> }>(setup: CloudSetup<E>): CloudHarness<E> {
  let emulator: E | undefined;
  let server: ModelServer | undefined;
  beforeAll(async () => {
    emulator = await setup.start();
  });
  afterAll(async () => {
    await emulator?.close();
    if (emulator) setup.afterClose?.(emulator);
  });
  afterEach(async () => {
    if (emulator) setup.reset(emulator);
    await server?.close();
    server = undefined;
  });
  const emu = (): E => {
    if (!emulator) throw new Error(`the ${setup.provider} emulator is not running`);
    return emulator;
  };
  const h: CloudHarness<E> = {
    emulator: emu,
    serve: async (scenario) => (server = await startModelServer({ scenario })),
    env: (home, extra = {}) => ({
      ...process.env,
      PARALLEL_CC_HOME: home,
      ANTHROPIC_BASE_URL: server?.url,
      ANTHROPIC_API_KEY: setup.modelKey,
      ...setup.env(emu()),
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
      const argv = ['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--provider', setup.provider, '--skip-claude-update', '--json'];
      const { child, done } = startCli(argv, { env: h.env(home, extra) });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      await expect.poll(() => out.includes('setTimeout'), { timeout: 60_000, interval: 100 }).toBe(true);
      child.kill('SIGKILL');
      await done;
      return String(parseNdjson(out.slice(0, out.lastIndexOf('\n') + 1)).find((e) => typeof e.sessionId === 'string')?.sessionId);
    },
    expectKeptByCleanup: async (home, id) => {
      const cleanup = await runCli(['cleanup', '--json'], { env: h.env(home) });
      expect(cleanup.code, cleanup.stderr).toBe(0);
      expect((JSON.parse(cleanup.stdout) as { actions: unknown[] }).actions).toContainEqual(expect.objectContaining({ kind: 'session', target: id, action: 'kept' }));
    },
    followToEnd: async (home, id) => {
      const follow = await runCli(['sandbox', 'logs', '--session-id', id, '--follow', '--json'], { env: h.env(home) });
      expect(follow.code, follow.stderr).toBe(0);
      expect(follow.stderr).toMatch(new RegExp(`reattaching to ${setup.provider} sandbox`));
      const followed = parseNdjson(follow.stdout);
      expect(followed.some((e) => e.type === 'tool_use' && JSON.stringify(e.input).includes('second.txt'))).toBe(true);
      expect(followed.some((e) => e.type === 'result' && e.isError === false)).toBe(true);
      const lines = followed.map((e) => e.agentLine).filter((n): n is number => typeof n === 'number');
      expect(lines.length).toBeGreaterThan(3);
      expect(lines).toEqual([...lines].sort((x, y) => x - y));
      expect(new Set(lines).size).toBe(lines.length);
      return followed;
    },
    health: async (home, id) => {
      const health = await runCli(['sandbox', 'health', '--session-id', id, '--json'], { env: h.env(home) });
      expect(health.code, health.stderr).toBe(0);
      return JSON.parse(health.stdout) as Record<string, unknown>;
    },
    expectLiveDownload: async (home, id) => {
      const dl = tempDir();
      const download = await runCli(['sandbox', 'download', '--session-id', id, '--output', dl, '--json'], { env: h.env(home) });
      expect(download.code, download.stderr).toBe(0);
      expect(JSON.parse(download.stdout)).toMatchObject({ source: 'live-sandbox' });
      expect(readFileSync(join(dl, 'first.txt'), 'utf8')).toBe('first\n');
      expect(readFileSync(join(dl, 'second.txt'), 'utf8')).toBe('second\n');
    },
    killKeepingWork: async (home, repo, id) => {
      const kill = await runCli(['sandbox', 'kill', '--session-id', id, '--keep-worktree', '--json'], { env: h.env(home) });
      expect(kill.code, kill.stderr).toBe(0);
      const killed = JSON.parse(kill.stdout) as { status: string; branch: string; commits?: number };
      expect(killed.status).toBe('killed');
      expect(git(repo, 'show', `${killed.branch}:second.txt`)).toBe('second');
      return killed;
    },
  };
  return h;
}

/** The entry names of a gzipped tarball (what a cloud provider uploaded), sorted. */
export async function tarEntries(gz: Buffer): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      names.push(h.name);
      stream.on('end', next);
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    extract.end(gunzipSync(gz));
  });
  return names.sort();
}
