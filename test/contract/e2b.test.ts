/** The provider contract against E2B, pointed at the local E2B emulator (test/fixtures/e2b). */
import { afterAll } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { E2BProvider } from '../../src/providers/e2b/index.js';
import { startE2BEmulator } from '../fixtures/e2b/index.js';
import { E2B_KEY } from '../helpers/e2b.js';
import { providerContract } from './provider-contract.js';

// Started at collection time: the suite reads the provider's capabilities to decide what applies.
const emulator = await startE2BEmulator({ apiKey: E2B_KEY });
afterAll(() => emulator.close());

const env = { ...process.env, E2B_API_KEY: E2B_KEY, E2B_API_URL: emulator.apiUrl, E2B_SANDBOX_URL: emulator.sandboxUrl };
const config = ConfigSchema.parse({}).providers.e2b;

providerContract('e2b (emulator)', {
  make: () => new E2BProvider(env, config),
  // The cloud sandbox ends from outside: another CLI (`sandbox kill`) ends it by its id.
  takeDown: (sandbox) => new E2BProvider(env, config).destroy(sandbox),
  textStreams: true,
});
