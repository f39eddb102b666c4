/**
 * Shared set-up of the Cloudflare integration tests (see cloud.ts): one bridge emulator per test file
 * (the real bridge Worker over bubblewrap containers, every exchange checked against its OpenAPI
 * schema — the file fails on any violation).
 */
import { expect } from 'vitest';
import { newBridgeKey, startCloudflareEmulator, type CloudflareEmulator, type CloudflareEmulatorOptions } from '../fixtures/cloudflare/index.js';
import { useCloud, type CloudHarness } from './cloud.js';

export { bash } from './cloud.js';

/** What a test file gets from {@link useCloudflare}. */
export interface CloudflareHarness extends CloudHarness<CloudflareEmulator> {
  /** The bridge's SANDBOX_API_KEY. */
  key: string;
}

/** Registers the hooks of a Cloudflare test file and returns its helpers. */
export function useCloudflare(opts: Partial<CloudflareEmulatorOptions> = {}): CloudflareHarness {
  const key = newBridgeKey();
  const h = useCloud<CloudflareEmulator>({
    provider: 'cloudflare',
    modelKey: `sk-ant-cf-${'c'.repeat(24)}`,
    start: () => startCloudflareEmulator({ apiKey: key, ...opts }),
    reset: (emu) => {
      emu.fault(undefined);
      emu.setApiKey(key);
    },
    env: (emu) => ({
      CLOUDFLARE_SANDBOX_URL: emu.url,
      SANDBOX_API_KEY: key,
      // The spec's 300 s would cut these runs' --timeout; each test that is about it sets its own.
      PARALLEL_CC_CF_SANDBOX_TIMEOUT: '3600',
    }),
    // The acceptance bar: zero schema violations across the whole file, requests and responses.
    afterClose: (emu) => expect(emu.violations).toEqual([]),
  });
  return { ...h, key };
}
