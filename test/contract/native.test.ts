/** The provider contract against native (bubblewrap on this machine). */
import { NativeProvider } from '../../src/providers/native/index.js';
import { providerContract } from './provider-contract.js';

providerContract('native (bwrap)', { make: () => new NativeProvider(process.env) });
