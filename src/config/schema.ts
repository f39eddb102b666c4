import { WEBHOOK_EVENTS } from '../core/webhooks.js';
import { z, type ZodTypeAny } from 'zod';
import { BUILTIN_PROVIDERS, DEFAULT_PROVIDER, PROVIDER_NAMES, providerModules, registryVersion, type ProviderName } from '../providers/registry.js';
import type { ProviderModule } from '../providers/module.js';
import { AGENT_NAMES, DEFAULT_AGENT } from '../agents/names.js';
import { durationMinutes } from './duration.js';

export { PROVIDER_NAMES, type ProviderName } from '../providers/registry.js';

/** Longest allowed run, in minutes (spec 000: "max: 60"). */
export const MAX_TIMEOUT_MINUTES = 60;

/**
 * The single source of truth for configuration. Every layer (defaults, ~/.parallel-cc/sandbox.json,
 * the repo's .parallel-cc.json, PARALLEL_CC_* env vars, flags) is validated against this schema.
 */
export const ConfigSchema = buildSchema(PROVIDER_NAMES, BUILTIN_PROVIDERS);

/** The `providers` object: each registered module's own section under its name. */
type Sections<M extends readonly ProviderModule[]> = { [K in M[number] as K['name']]: K['config'] };

function providerSections<M extends readonly ProviderModule[]>(modules: M): z.ZodDefault<z.ZodObject<Sections<M>, 'strict'>> {
  const shape = Object.fromEntries(modules.map((m) => [m.name, m.config])) as Sections<M>;
  return z.object(shape).strict().default({} as never);
}

function buildSchema<M extends readonly ProviderModule[]>(names: readonly [ProviderName, ...ProviderName[]], modules: M) {
  return z
  .object({
    defaultProvider: z.enum(names as [ProviderName, ...ProviderName[]]).default(DEFAULT_PROVIDER),
    /** Minutes; a string with a unit (`30m`, `1800s`, `1h`) is accepted too, as in PARALLEL_CC_SANDBOX_TIMEOUT. */
    timeoutMinutes: z
      .preprocess((v) => (typeof v === 'string' ? (durationMinutes(v, 'm') ?? v) : v), z.number().positive().max(MAX_TIMEOUT_MINUTES))
      .default(MAX_TIMEOUT_MINUTES),
    autoCleanup: z.boolean().default(true),
    anthropicBaseUrl: z.string().url().default('https://api.anthropic.com'),
    /** The OpenAI Responses API (codex's upstream behind the broker); includes the `/v1`. */
    openaiBaseUrl: z.string().url().default('https://api.openai.com/v1'),
    /** The Gemini API (gemini's upstream behind the broker). */
    geminiBaseUrl: z.string().url().default('https://generativelanguage.googleapis.com'),
    claudeBin: z.string().min(1).optional(),
    /** The codex native binary (default: `codex` on PATH, then the local npm install). */
    codexBin: z.string().min(1).optional(),
    /** The @google/gemini-cli package folder (default: `gemini` on PATH, then the local npm install). */
    geminiDir: z.string().min(1).optional(),
    /** The model codex asks for (`-m`); default: codex's own default. */
    codexModel: z.string().min(1).optional(),
    /** The model gemini asks for (`-m`); default: gemini's own choice (`auto`). */
    geminiModel: z.string().min(1).optional(),
    /** The agent CLI a run starts (`--agent-cli`). */
    agentCli: z.enum(AGENT_NAMES).default(DEFAULT_AGENT),
    /** The `command` agent's command line, split into words without a shell (`--agent-command`). */
    agentCommand: z.string().min(1).optional(),
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    uploadIgnorePatterns: z.array(z.string()).default([]),
    /** Lifecycle hooks, run inside the sandbox (`--setup`, `--on-success`, `--on-failure`, `--hook-timeout`). */
    hooks: z
      .object({
        setup: z.string().min(1).optional(),
        onSuccess: z.string().min(1).optional(),
        onFailure: z.string().min(1).optional(),
        timeoutMinutes: z.preprocess((v) => (typeof v === 'string' ? (durationMinutes(v, 'm') ?? v) : v), z.number().positive().max(MAX_TIMEOUT_MINUTES)).default(10),
      })
      .strict()
      .default({}),
    /** Rate limits per provider: a run that would pass them waits for a slot (never fails). */
    limits: z
      .record(
        z.enum(names as [ProviderName, ...ProviderName[]]),
        z.object({ sandboxesPerMinute: z.number().int().positive().optional(), maxConcurrentSandboxes: z.number().int().positive().optional() }).strict(),
      )
      .default({}),
    /**
     * The fleet's model API limits, enforced by the credential broker for every session of a CLI
     * process and shared with the other parallel-cc processes of the machine through the registry.
     * `windowSeconds` is the span of the per-minute limits (60; tests shorten it); `maxRetries`
     * bounds the broker's own retries of a request upstream refused for load (429/529/503).
     */
    modelApi: z
      .object({
        maxConcurrentRequests: z.number().int().positive().optional(),
        requestsPerMinute: z.number().int().positive().optional(),
        tokensPerMinute: z.number().int().positive().optional(),
        windowSeconds: z.number().min(1).max(3600).default(60),
        maxRetries: z.number().int().min(0).max(20).default(4),
      })
      .strict()
      .default({}),
    /** Monitoring: thresholds checked from the sandbox's stats while the agent runs (an `alert` event once each). */
    alertThresholds: z
      .object({
        cpuPercent: z.number().positive().optional(),
        memoryPercent: z.number().positive().max(100).optional(),
        diskPercent: z.number().positive().max(100).optional(),
        runMinutes: z.number().positive().optional(),
        intervalSeconds: z.number().min(0.2).default(10),
      })
      .strict()
      .default({}),
    /** Receivers of session lifecycle events (`--webhook URL` adds one with every event). */
    webhooks: z
      .array(
        z
          .object({
            url: z.string().url(),
            events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional(),
            secret: z.string().min(1).optional(),
            format: z.enum(['generic', 'github', 'slack']).default('generic'),
            includePrompt: z.boolean().default(false),
            headers: z.record(z.string()).optional(),
          })
          .strict(),
      )
      .default([]),
    providers: providerSections(modules),
  })
  .strict();
}

let cached: { version: number; schema: ZodTypeAny } | undefined;

/**
 * The schema of every registered provider module (the built-in ones give {@link ConfigSchema};
 * a module registered by a test adds its section and name).
 */
export function configSchema(): ZodTypeAny {
  if (cached?.version !== registryVersion()) {
    const modules = providerModules();
    cached = { version: registryVersion(), schema: buildSchema(modules.map((m) => m.name) as unknown as [ProviderName, ...ProviderName[]], modules) };
  }
  return cached.schema;
}

/** The effective, validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;
