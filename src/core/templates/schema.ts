import { z } from 'zod';
export { sizeBytes, sizeMib } from '../../config/env-parse.js';

/** Sizes as templates write them: `2GB`, `512MB`, `2g`, or a number of MB (spec 000's sandbox config). */
const size = z.union([z.string().regex(/^\d+(\.\d+)?\s*([kmgt]i?b?)?$/i, 'a size like 512MB, 2GB or 2g'), z.number().positive()]);

/**
 * An environment template (spec 002): one JSON file. Resource fields go to the provider that can
 * honour them (its module's `fromTemplate`); the rest apply to every provider.
 */
export const TemplateSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** Docker base image. */
    image: z.string().min(1).optional(),
    e2bTemplate: z.string().min(1).optional(),
    daytonaSnapshot: z.string().min(1).optional(),
    cloudflareInstanceType: z.string().min(1).optional(),
    cpus: z.number().positive().optional(),
    memory: size.optional(),
    disk: size.optional(),
    /** Seconds (a number, as spec 002 writes it) or a duration (`5m`). */
    timeout: z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?[smh]$/, 'a duration like 300s or 5m')]).optional(),
    /** Variables set for the agent and the hooks inside the sandbox. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name'), z.string()).optional(),
    /** Packages the environment should have; installed with `packageManager` when it is not `none`. */
    packages: z.array(z.string().regex(/^[A-Za-z0-9@][\w@./=<>~^-]*$/, 'a package name')).optional(),
    packageManager: z.enum(['pip', 'npm', 'none']).optional(),
    /** Shell commands run in the sandbox before the agent (all must pass), like --setup. */
    setup: z.array(z.string().min(1)).optional(),
    /** Lifecycle checks, like --on-success / --on-failure (flags win). */
    onSuccess: z.string().min(1).optional(),
    onFailure: z.string().min(1).optional(),
    /** Hosts the packages come from (added to the run's allowlist). */
    allowDomains: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** A validated template. */
export type Template = z.infer<typeof TemplateSchema>;

/** The resource fields a provider may honour or ignore. */
export const RESOURCE_FIELDS = ['image', 'e2bTemplate', 'daytonaSnapshot', 'cloudflareInstanceType', 'cpus', 'memory', 'disk'] as const;
/** One resource field. */
export type ResourceField = (typeof RESOURCE_FIELDS)[number];

/** spec 000's `--sandbox-config` file ({image, cpu, memory (MB), disk (MB), env}) as a template. */
export const SandboxConfigSchema = z
  .object({ image: z.string().min(1).optional(), cpu: z.number().positive().optional(), memory: size.optional(), disk: size.optional(), env: z.record(z.string()).optional() })
  .strict()
  .transform((c): Template => ({
    name: 'sandbox-config',
    ...(c.image ? { image: c.image, e2bTemplate: c.image } : {}),
    ...(c.cpu !== undefined ? { cpus: c.cpu } : {}),
    ...(c.memory !== undefined ? { memory: c.memory } : {}),
    ...(c.disk !== undefined ? { disk: c.disk } : {}),
    ...(c.env ? { env: c.env } : {}),
  }));
