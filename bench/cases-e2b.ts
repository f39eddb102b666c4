/**
 * The E2B case: what parallel-cc adds on top of the e2b SDK for one command in a fresh sandbox.
 * Both sides talk to the local E2B emulator (test/fixtures/e2b), so the numbers are our overhead —
 * Node start-up, the provider's command plumbing, its checks — not E2B's cloud latency.
 */
import { startE2BEmulator } from '../test/fixtures/e2b/index.js';
import { cloudRoundTrip, type BenchCase } from './harness.js';

const KEY = `e2b_${'b'.repeat(32)}`;
/** The smallest program doing the same with the SDK, as its own process (like `docker run` is). */
const RAW = "import { Sandbox } from 'e2b'; const s = await Sandbox.create('anthropic-claude-code'); await s.commands.run('true'); await s.kill();";

/** `sandbox exec --provider e2b -- true` vs a raw SDK script (node + create + run `true` + kill). Goal ≤ 1.2×. */
export const e2bRoundTrip: BenchCase = {
  name: 'e2b round trip (local emulator): sandbox exec --provider e2b -- true vs raw SDK create + run + kill',
  run() {
    return cloudRoundTrip(this.name, 'e2b', RAW, async () => {
      const emulator = await startE2BEmulator({ apiKey: KEY });
      return { env: { E2B_API_KEY: KEY, E2B_API_URL: emulator.apiUrl, E2B_SANDBOX_URL: emulator.sandboxUrl }, close: () => emulator.close() };
    });
  },
};
