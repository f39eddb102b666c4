/**
 * Shared set-up of the E2B integration tests (see cloud.ts): one local E2B emulator per test file.
 */
import { startE2BEmulator, type E2BEmulator, type EmulatedSandboxInfo } from '../fixtures/e2b/index.js';
import { useCloud, type CloudHarness } from './cloud.js';

export { bash } from './cloud.js';

/** The API key the emulator accepts. */
export const E2B_KEY = `e2b_${'k'.repeat(32)}`;

/** What a test file gets from {@link useE2B}. */
export interface E2BHarness extends CloudHarness<E2BEmulator> {
  sandboxOf(sessionId: string): EmulatedSandboxInfo | undefined;
}

/** Registers the hooks of an E2B test file and returns its helpers. */
export function useE2B(): E2BHarness {
  const h = useCloud<E2BEmulator>({
    provider: 'e2b',
    modelKey: `sk-ant-e2b-${'e'.repeat(24)}`,
    start: () => startE2BEmulator({ apiKey: E2B_KEY }),
    reset: (emu) => {
      emu.fault(undefined);
      emu.networkRules(true);
    },
    env: (emu) => ({ E2B_API_KEY: E2B_KEY, E2B_API_URL: emu.apiUrl, E2B_SANDBOX_URL: emu.sandboxUrl }),
  });
  return { ...h, sandboxOf: (sessionId) => h.emulator().sandboxes().find((s) => s.metadata['parallel-cc.session'] === sessionId) };
}
