import type { Config } from '../config/schema.js';
import { AppError } from '../errors.js';
import { cloudflareModule } from './cloudflare/module.js';
import { daytonaModule } from './daytona/module.js';
import { dockerModule } from './docker/module.js';
import { e2bModule } from './e2b/module.js';
import type { ProviderModule } from './module.js';
import { nativeModule } from './native/module.js';
import type { SandboxProvider } from './provider.js';

/**
 * The providers this build ships, one entry per provider (the first is the default). Adding one is
 * a folder under src/providers with its module.ts, plus its entry here: config schema, env
 * variables, CLI flags, doctor and redaction are composed from this list.
 */
export const BUILTIN_PROVIDERS = [nativeModule, dockerModule, e2bModule, cloudflareModule, daytonaModule] as const;

/** A sandbox provider name: only the names of registered modules. */
export type ProviderName = (typeof BUILTIN_PROVIDERS)[number]['name'];

/** Names of the providers parallel-cc ships (the first is the default). */
export const PROVIDER_NAMES = BUILTIN_PROVIDERS.map((m) => m.name) as [ProviderName, ...ProviderName[]];

/** The provider used when neither config nor flags name one. */
export const DEFAULT_PROVIDER: ProviderName = PROVIDER_NAMES[0];

const extra: ProviderModule[] = [];
let version = 0;

/** Every registered provider module: the built-in ones, then any registered by a test. */
export function providerModules(): readonly ProviderModule[] {
  return [...BUILTIN_PROVIDERS, ...extra];
}

/** Names of every registered provider (what `--provider` accepts). */
export function providerNames(): string[] {
  return providerModules().map((m) => m.name);
}

/** The module of a provider name, if one is registered. */
export function providerModule(name: string): ProviderModule | undefined {
  return providerModules().find((m) => m.name === name);
}

/** Changes whenever the set of modules does (lets composed views such as the schema be cached). */
export function registryVersion(): number {
  return version;
}

/**
 * Registers one more provider module at run time — for tests, which prove that a provider is
 * nothing but its module. Returns a function that removes it again.
 */
export function registerProviderModule(mod: ProviderModule): () => void {
  if (providerModule(mod.name)) throw new Error(`provider ${mod.name} is already registered`);
  extra.push(mod);
  version++;
  return () => {
    const i = extra.indexOf(mod);
    if (i >= 0) extra.splice(i, 1);
    version++;
  };
}

/** Creates the provider for a name, or explains which ones exist. Loads its implementation on demand. */
export async function createProvider(name: string, env: NodeJS.ProcessEnv, config: Config): Promise<SandboxProvider> {
  const mod = providerModule(name);
  if (!mod) {
    throw new AppError('usage', `the ${name} provider is not available in this version of parallel-cc`, {
      hint: `Use one of: ${providerNames().join(', ')}.`,
    });
  }
  const sections = config.providers as Record<string, unknown>;
  // The section is validated by the composed schema; a config built before the module was registered has none.
  const section: unknown = sections[name] ?? mod.config.parse(undefined);
  return (await mod.load())(env, section);
}
