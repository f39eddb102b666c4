/**
 * Shared set-up of the Daytona integration tests (see cloud.ts): one local Daytona emulator per test
 * file; the real `@daytonaio/sdk` polls (DAYTONA_USE_DEPRECATED_POLLING).
 */
import { startDaytonaEmulator, type DaytonaEmulator, type DaytonaEmulatorOptions, type DaytonaSandboxInfo } from '../fixtures/daytona/index.js';
import { useCloud, type CloudHarness } from './cloud.js';

export { bash } from './cloud.js';

/** The model API key of the tests (it must reach the agent's env only). */
export const DAYTONA_MODEL_KEY = `sk-ant-dtn-${'m'.repeat(24)}`;
/** The API key the emulator accepts. */
export const DAYTONA_KEY = `dtn_${'k'.repeat(64)}`;

/** What a test file gets from {@link useDaytona}. */
export interface DaytonaHarness extends CloudHarness<DaytonaEmulator> {
  sandboxOf(sessionId: string): DaytonaSandboxInfo | undefined;
}

/** Registers the hooks of a Daytona test file and returns its helpers. */
export function useDaytona(opts: Partial<DaytonaEmulatorOptions> = {}): DaytonaHarness {
  const h = useCloud<DaytonaEmulator>({
    provider: 'daytona',
    modelKey: DAYTONA_MODEL_KEY,
    start: () => startDaytonaEmulator({ apiKey: DAYTONA_KEY, ...opts }),
    reset: (emu) => emu.fault(undefined),
    env: (emu) => ({ DAYTONA_API_KEY: DAYTONA_KEY, DAYTONA_API_URL: emu.apiUrl, DAYTONA_USE_DEPRECATED_POLLING: 'true' }),
  });
  return { ...h, sandboxOf: (sessionId) => h.emulator().sandboxes().find((s) => s.labels['parallel-cc.session'] === sessionId) };
}
