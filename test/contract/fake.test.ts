/** The provider contract against the tempdir fake (no isolation): the suite's own baseline. */
import { FakeProvider } from '../fixtures/fake-provider/index.js';
import { providerContract } from './provider-contract.js';

providerContract('fake (temp folder)', { make: () => new FakeProvider() });
