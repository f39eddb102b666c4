/** The provider contract against Daytona, pointed at the local Daytona emulator (test/fixtures/daytona). */
import { afterAll } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DaytonaProvider } from '../../src/providers/daytona/index.js';
import { startDaytonaEmulator } from '../fixtures/daytona/index.js';
import { DAYTONA_KEY } from '../helpers/daytona.js';
import { providerContract } from './provider-contract.js';

// Started at collection time: the suite reads the provider's capabilities to decide what applies.
const emulator = await startDaytonaEmulator({ apiKey: DAYTONA_KEY });
afterAll(() => emulator.close());

const env = { ...process.env, DAYTONA_API_KEY: DAYTONA_KEY, DAYTONA_API_URL: emulator.apiUrl, DAYTONA_USE_DEPRECATED_POLLING: 'true' };
const config = ConfigSchema.parse({}).providers.daytona;

providerContract('daytona (emulator)', {
  make: () => new DaytonaProvider(env, config),
  // The cloud sandbox ends from outside: another CLI (`sandbox kill`) deletes it by its id.
  takeDown: (sandbox) => new DaytonaProvider(env, config).destroy(sandbox),
  // Session logs are labelled lines (no NUL) decoded by the SDK: byte-exact output only with `collect`.
  textStreams: true,
  streamDropsNul: true,
});
