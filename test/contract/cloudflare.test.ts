/**
 * The provider contract against Cloudflare, through the local bridge emulator (test/fixtures/cloudflare:
 * the real bridge Worker over bubblewrap containers). Every exchange is checked against the bridge's
 * OpenAPI schema: the file fails on any violation.
 */
import { afterAll, expect } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { CloudflareProvider } from '../../src/providers/cloudflare/index.js';
import { newBridgeKey, startCloudflareEmulator } from '../fixtures/cloudflare/index.js';
import { providerContract } from './provider-contract.js';

const key = newBridgeKey();
// Started at collection time: the suite reads the provider's capabilities to decide what applies.
const emulator = await startCloudflareEmulator({ apiKey: key });
afterAll(async () => {
  await emulator.close();
  expect(emulator.violations).toEqual([]);
  expect(emulator.running()).toBe(0);
});

const env = { ...process.env, CLOUDFLARE_SANDBOX_URL: emulator.url, SANDBOX_API_KEY: key };
const config = ConfigSchema.parse({}).providers.cloudflare;

providerContract('cloudflare (bridge emulator)', {
  make: () => new CloudflareProvider(env, config),
  // Another CLI (`sandbox kill`) ends the sandbox by its id.
  takeDown: (sandbox) => new CloudflareProvider(env, config).destroy(sandbox),
  textStreams: true,
});
