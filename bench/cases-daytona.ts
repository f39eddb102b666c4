/**
 * The Daytona case: what parallel-cc adds on top of @daytonaio/sdk for one command in a fresh
 * sandbox. Both sides talk to the local Daytona emulator (test/fixtures/daytona), so the numbers are
 * our overhead — Node start-up, the provider's session plumbing, its checks — not Daytona's latency.
 */
import { startDaytonaEmulator } from '../test/fixtures/daytona/index.js';
import { cloudRoundTrip, type BenchCase } from './harness.js';

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
  run() {
    return cloudRoundTrip(this.name, 'daytona', RAW, async () => {
      const emulator = await startDaytonaEmulator({ apiKey: KEY });
      return { env: { DAYTONA_API_KEY: KEY, DAYTONA_API_URL: emulator.apiUrl, DAYTONA_USE_DEPRECATED_POLLING: 'true' }, close: () => emulator.close() };
    });
  },
};
