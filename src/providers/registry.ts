import type { Config, ProviderName } from '../config/schema.js';
import { AppError } from '../errors.js';
import { DockerProvider } from './docker/index.js';
import { NativeProvider } from './native/index.js';
import type { SandboxProvider } from './provider.js';

/** Builds a provider from the environment and the effective configuration (its own section of it). */
type Factory = (env: NodeJS.ProcessEnv, config: Config) => SandboxProvider;

/** The providers this build ships. Adding one is a folder under src/providers plus one line here. */
const FACTORIES: Partial<Record<ProviderName, Factory>> = {
  native: (env, config) => new NativeProvider(env, config.providers.native),
  docker: (env, config) => new DockerProvider(env, config.providers.docker),
};

/** Names of the providers that can be used in this build. */
export function availableProviders(): ProviderName[] {
  return Object.keys(FACTORIES) as ProviderName[];
}

/** Creates the provider for a name, or explains which ones exist. */
export function createProvider(name: ProviderName, env: NodeJS.ProcessEnv, config: Config): SandboxProvider {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new AppError('usage', `the ${name} provider is not available in this version of parallel-cc`, {
      hint: `Use one of: ${availableProviders().join(', ')}.`,
    });
  }
  return factory(env, config);
}
