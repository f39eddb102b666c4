import type { Config, ProviderName } from '../config/schema.js';
import { AppError } from '../errors.js';
import type { SandboxProvider } from './provider.js';

/** Builds a provider from the environment and the effective configuration (its own section of it). */
type Factory = (env: NodeJS.ProcessEnv, config: Config) => SandboxProvider;

/**
 * The providers this build ships. Adding one is a folder under src/providers plus one line here.
 * Loaded on demand: a vendor SDK (dockerode, e2b…) costs start-up time only when it is used.
 */
const FACTORIES: Partial<Record<ProviderName, () => Promise<Factory>>> = {
  native: async () => {
    const { NativeProvider } = await import('./native/index.js');
    return (env, config) => new NativeProvider(env, config.providers.native);
  },
  docker: async () => {
    const { DockerProvider } = await import('./docker/index.js');
    return (env, config) => new DockerProvider(env, config.providers.docker);
  },
  e2b: async () => {
    const { E2BProvider } = await import('./e2b/index.js');
    return (env, config) => new E2BProvider(env, config.providers.e2b);
  },
};

/** Names of the providers that can be used in this build. */
export function availableProviders(): ProviderName[] {
  return Object.keys(FACTORIES) as ProviderName[];
}

/** Creates the provider for a name, or explains which ones exist. */
export async function createProvider(name: ProviderName, env: NodeJS.ProcessEnv, config: Config): Promise<SandboxProvider> {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new AppError('usage', `the ${name} provider is not available in this version of parallel-cc`, {
      hint: `Use one of: ${availableProviders().join(', ')}.`,
    });
  }
  return (await factory())(env, config);
}
