/**
 * The Daytona case: what parallel-cc adds on top of @daytonaio/sdk for one command in a fresh
 * sandbox. Both sides talk to the local Daytona emulator (test/fixtures/daytona), so the numbers are
 * our overhead — Node start-up, the provider's session plumbing, its checks — not Daytona's latency.
 */
import { fileURLToPath } from 'node:url';
import { startDaytonaEmulator } from '../test/fixtures/daytona/index.js';
import { paired, ratioResult, runArgv, type BenchCase } from './harness.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY = `dtn_${'b'.repeat(64)}`;
/**
 * The smallest program doing the same with the SDK, as its own process: create, run `true` in a
 * session with runAsync and follow its logs (how a streamed command runs), delete.
 */
const RAW = [
  "import { Daytona } from '@daytonaio/sdk';",
  'const d = new Daytona();',
  'const s = await d.create();',
  "await s.process.createSession('b');",
  "const c = await s.process.executeSessionCommand('b', { command: 'true', runAsync: true });",
  "await s.process.getSessionCommandLogs('b', c.cmdId, () => {}, () => {});",
  "await s.process.getSessionCommand('b', c.cmdId);",
  'await s.delete();',
].join(' ');

/** `sandbox exec --provider daytona -- true` vs a raw SDK script (node + create + session command + delete). Goal ≤ 1.2×. */
export const daytonaRoundTrip: BenchCase = {
  name: 'daytona round trip (local emulator): sandbox exec --provider daytona -- true vs raw SDK create + session command + delete',
  async run() {
    const emulator = await startDaytonaEmulator({ apiKey: KEY });
    try {
      const env = { ...process.env, DAYTONA_API_KEY: KEY, DAYTONA_API_URL: emulator.apiUrl, DAYTONA_USE_DEPRECATED_POLLING: 'true' };
      const { ours, baseline } = await paired(
        5,
        async () => {
          const r = await runArgv([process.execPath, BIN, 'sandbox', 'exec', '--provider', 'daytona', '--', 'true'], { env });
          if (r.code !== 0) throw new Error(`sandbox exec failed: ${r.stderr}`);
        },
        async () => {
          const r = await runArgv([process.execPath, '--input-type=module', '-e', RAW], { env, cwd: ROOT });
          if (r.code !== 0) throw new Error(`raw SDK script failed: ${r.stderr}`);
        },
      );
      return ratioResult(this.name, ours, baseline, 1.2, 'both are processes against the same local emulator: our overhead over a minimal SDK program');
    } finally {
      await emulator.close();
    }
  },
};
