/**
 * The E2B case: what parallel-cc adds on top of the e2b SDK for one command in a fresh sandbox.
 * Both sides talk to the local E2B emulator (test/fixtures/e2b), so the numbers are our overhead —
 * Node start-up, the provider's command plumbing, its checks — not E2B's cloud latency.
 */
import { fileURLToPath } from 'node:url';
import { startE2BEmulator } from '../test/fixtures/e2b/index.js';
import { paired, ratioResult, runArgv, type BenchCase } from './harness.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY = `e2b_${'b'.repeat(32)}`;
/** The smallest program doing the same with the SDK, as its own process (like `docker run` is). */
const RAW = "import { Sandbox } from 'e2b'; const s = await Sandbox.create('anthropic-claude-code'); await s.commands.run('true'); await s.kill();";

/** `sandbox exec --provider e2b -- true` vs a raw SDK script (node + create + run `true` + kill). Goal ≤ 1.2×. */
export const e2bRoundTrip: BenchCase = {
  name: 'e2b round trip (local emulator): sandbox exec --provider e2b -- true vs raw SDK create + run + kill',
  async run() {
    const emulator = await startE2BEmulator({ apiKey: KEY });
    try {
      const env = { ...process.env, E2B_API_KEY: KEY, E2B_API_URL: emulator.apiUrl, E2B_SANDBOX_URL: emulator.sandboxUrl };
      const { ours, baseline } = await paired(
        5,
        async () => {
          const r = await runArgv([process.execPath, BIN, 'sandbox', 'exec', '--provider', 'e2b', '--', 'true'], { env });
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
