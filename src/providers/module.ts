import type { ResourceField, Template } from '../core/templates/schema.js';
import type { z } from 'zod';
import type { SandboxPricing, SandboxProvider } from './provider.js';

/** One environment variable of a provider: it sets `key` of the provider's own config section. */
export interface ProviderEnvVar {
  name: string;
  /** Dotted path inside `providers.<name>` (e.g. `filesystem.allowWrite`). */
  key: string;
  parse: (raw: string) => unknown;
}

/** One `sandbox run` flag of a provider (commander syntax), setting `key` of its config section. */
export interface ProviderFlag {
  /** e.g. `--docker-image <image>`. */
  flags: string;
  help: string;
  /** Dotted path inside `providers.<name>`. */
  key: string;
}

/** One line of `parallel-cc doctor`: ✓ or ✗, whether a failure blocks parallel-cc, and the fix. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  required: boolean;
  detail: string;
  fix?: string;
}

/** What a provider's doctor checks get. */
export interface DoctorInput {
  env: NodeJS.ProcessEnv;
  /** This provider is the configured default: its failures are required ones. */
  required: boolean;
  /** Runs a command (15 s at most); ok with its output, or not ok with the first line of the error. */
  probe: (argv: string[]) => Promise<{ ok: boolean; out: string }>;
  /** The provider itself, configured as a run would configure it (rejects on an invalid config). */
  create: () => Promise<SandboxProvider>;
}

/**
 * Builds a provider from the environment and its own (validated) config section. Declared as a
 * method so that a module list (`ProviderModule[]`) can hold modules of different sections.
 */
export type ProviderFactory<C> = { build(env: NodeJS.ProcessEnv, section: C): SandboxProvider }['build'];

/**
 * Everything parallel-cc needs to know about a provider before its implementation is loaded:
 * config section, env variables, flags, secrets, doctor checks, pricing, hints. Schema, env layer,
 * CLI, doctor and redaction are composed from the registered modules (registry.ts); `load` imports
 * the implementation only when a provider is used, so a vendor SDK costs nothing otherwise.
 */
export interface ProviderModule<N extends string = string, S extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly name: N;
  /** One line for `--provider` help (e.g. `bubblewrap on this machine`). */
  readonly summary: string;
  /** The `providers.<name>` section, every key with a default (`.strict().default({})`). */
  readonly config: S;
  readonly env: readonly ProviderEnvVar[];
  readonly flags?: readonly ProviderFlag[];
  /** Values to redact wherever they appear: environment variables, and token shapes (global regexes). */
  readonly secrets?: { env?: readonly string[]; shapes?: readonly RegExp[] };
  /** The npm package of its SDK, if any (`doctor --sandbox` says whether it is installed). */
  readonly sdk?: string;
  doctor?(input: DoctorInput): Promise<DoctorCheck[]>;
  /** What a sandbox costs while it exists, if it is billed by time. */
  readonly pricing?: SandboxPricing;
  readonly hints?: {
    /** How to give sandboxes a longer life, when they end by themselves (said when a run is cut short). */
    longerLifetime?: string;
  };
  /**
   * Maps an environment template's resource fields (image, cpus, memory, …) onto this provider's
   * config section; `ignored` lists those it cannot honour (said to the user). Absent: all ignored.
   */
  fromTemplate?(t: Template, machine: { cpus: number }): { config: Record<string, unknown>; ignored: readonly ResourceField[]; notes?: string[] };
  /**
   * A `sandbox run` flag whose value is a settings file of this provider (`--native-config <file>`):
   * the parser `load` imports maps its text onto the config section, or names each key it cannot
   * honour. The CLI refuses it with any other provider.
   */
  readonly configFile?: { flags: string; help: string; load(): Promise<(text: string) => { section: Record<string, unknown> } | { problems: string[] }> };
  /** `sandbox health` adds the disk use of the session's sandbox folder (workspace + home). */
  readonly diskInSandboxDir?: boolean;
  load(): Promise<ProviderFactory<z.output<S>>>;
}
