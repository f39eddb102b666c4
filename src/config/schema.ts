import { z } from 'zod';
import { AGENT_NAMES, DEFAULT_AGENT } from '../agents/registry.js';
import { durationMinutes } from './duration.js';

/** Names of the sandbox providers parallel-cc knows. */
export const PROVIDER_NAMES = ['native', 'docker', 'e2b', 'daytona', 'cloudflare'] as const;
/** A sandbox provider name. */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Longest allowed run, in minutes (spec 000: "max: 60"). */
export const MAX_TIMEOUT_MINUTES = 60;

const domainList = z.array(z.string().min(1)).default([]);

/**
 * The single source of truth for configuration. Every layer (defaults, ~/.parallel-cc/sandbox.json,
 * the repo's .parallel-cc.json, PARALLEL_CC_* env vars, flags) is validated against this schema.
 */
export const ConfigSchema = z
  .object({
    defaultProvider: z.enum(PROVIDER_NAMES).default('native'),
    /** Minutes; a string with a unit (`30m`, `1800s`, `1h`) is accepted too, as in PARALLEL_CC_SANDBOX_TIMEOUT. */
    timeoutMinutes: z
      .preprocess((v) => (typeof v === 'string' ? (durationMinutes(v, 'm') ?? v) : v), z.number().positive().max(MAX_TIMEOUT_MINUTES))
      .default(MAX_TIMEOUT_MINUTES),
    autoCleanup: z.boolean().default(true),
    anthropicBaseUrl: z.string().url().default('https://api.anthropic.com'),
    claudeBin: z.string().min(1).optional(),
    /** The agent CLI a run starts (`--agent-cli`). */
    agentCli: z.enum(AGENT_NAMES).default(DEFAULT_AGENT),
    /** The `command` agent's command line, split into words without a shell (`--agent-command`). */
    agentCommand: z.string().min(1).optional(),
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    uploadIgnorePatterns: z.array(z.string()).default([]),
    providers: z
      .object({
        native: z
          .object({
            allowedDomains: domainList,
            /** cgroup limits on everything in the sandbox (the agent and whatever it starts). */
            memoryLimit: z.string().regex(/^\d+(\.\d+)?[kmgKMG]?$/, 'a size like 512m or 2g').default('2g'),
            pidsLimit: z.number().int().positive().default(512),
            filesystem: z
              .object({ allowWrite: z.array(z.string()).default([]), denyRead: z.array(z.string()).default([]) })
              .strict()
              .default({}),
          })
          .strict()
          .default({}),
        docker: z
          .object({
            image: z.string().min(1).default('parallel-cc-agent:latest'),
            network: z.enum(['none', 'bridge', 'host']).default('none'),
            memoryLimit: z.string().regex(/^\d+(\.\d+)?[kmgKMG]?$/, 'a size like 512m or 2g').default('2g'),
            cpuLimit: z.number().positive().default(1),
          })
          .strict()
          .default({}),
        e2b: z
          .object({
            template: z.string().min(1).default('anthropic-claude-code'),
            /** Longest life of a sandbox, in seconds (it ends by itself after it, even if the CLI died). */
            defaultTimeout: z.number().positive().default(3600),
            /** How long one E2B API request may take before it is an error, in seconds. */
            requestTimeoutSeconds: z.number().positive().default(30),
            /**
             * Give the agent the real API key as an env var instead of a placeholder plus E2B network
             * rules (for templates or accounts without network rules). Egress is then not restricted.
             */
            keyInSandbox: z.boolean().default(false),
          })
          .strict()
          .default({}),
        daytona: z.object({ target: z.enum(['us', 'eu']).default('us') }).passthrough().default({}),
        cloudflare: z.object({ timeout: z.number().positive().default(300) }).passthrough().default({}),
      })
      .strict()
      .default({}),
  })
  .strict();

/** The effective, validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;
