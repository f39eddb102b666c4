import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ZodError } from 'zod';
import { AppError } from '../errors.js';
import { durationMinutes } from './duration.js';
import { keysBelow } from './keys.js';
import { providerModules } from '../providers/registry.js';
import { bool, num, str } from './env-parse.js';
import { configSchema, type Config } from './schema.js';

/** A partial, not yet validated layer of configuration. */
export type ConfigLayer = Record<string, unknown>;

/** Where an effective value came from (for `config show`). */
export type ConfigSources = Record<string, string>;

/** Inputs of {@link loadConfig}; everything injected, nothing read from globals. */
export interface LoadConfigInput {
  /** The parallel-cc home folder (holds sandbox.json). */
  home: string;
  /** The repository root, if known (holds .parallel-cc.json). */
  repoRoot?: string;
  env: NodeJS.ProcessEnv;
  /** Values from command-line flags, already shaped like the config. */
  flags?: ConfigLayer;
  /** A `--template`'s provider settings: above the environment, below the flags. */
  template?: { name: string; layer: ConfigLayer };
}

type EnvMapping = [name: string, path: string, parse: (v: string) => unknown];

/** The variables of the core keys; each provider module declares its own (see {@link envMappings}). */
const CORE_ENV_MAPPINGS: readonly EnvMapping[] = [
  ['PARALLEL_CC_SANDBOX_PROVIDER', 'defaultProvider', str],
  // Plain numbers are seconds (the spec); `30m` / `1800s` / `1h` mean what they say, like the config key.
  ['PARALLEL_CC_SANDBOX_TIMEOUT', 'timeoutMinutes', (v) => durationMinutes(v, 's') ?? v],
  ['PARALLEL_CC_SANDBOX_AUTO_CLEANUP', 'autoCleanup', bool],
  ['PARALLEL_CC_LOG_LEVEL', 'logLevel', (v) => v.toLowerCase()],
  ['PARALLEL_CC_CLAUDE_BIN', 'claudeBin', str],
  ['PARALLEL_CC_AGENT_CLI', 'agentCli', str],
  ['PARALLEL_CC_AGENT_COMMAND', 'agentCommand', str],
  ['ANTHROPIC_BASE_URL', 'anthropicBaseUrl', str],
  ['OPENAI_BASE_URL', 'openaiBaseUrl', str],
  ['GOOGLE_GEMINI_BASE_URL', 'geminiBaseUrl', str],
  ['PARALLEL_CC_CODEX_MODEL', 'codexModel', str],
  ['PARALLEL_CC_GEMINI_MODEL', 'geminiModel', str],
  ['PARALLEL_CC_CODEX_BIN', 'codexBin', str],
  ['PARALLEL_CC_GEMINI_DIR', 'geminiDir', str],
  ['PARALLEL_CC_MODEL_API_MAX_CONCURRENT', 'modelApi.maxConcurrentRequests', num],
  ['PARALLEL_CC_MODEL_API_RPM', 'modelApi.requestsPerMinute', num],
  ['PARALLEL_CC_MODEL_API_TPM', 'modelApi.tokensPerMinute', num],
  ['PARALLEL_CC_MODEL_API_WINDOW_SECONDS', 'modelApi.windowSeconds', num],
  ['PARALLEL_CC_MODEL_API_MAX_RETRIES', 'modelApi.maxRetries', num],
];

/** Every environment variable of the spec and the config key it sets: the core's, then each registered provider's. */
export function envMappings(): EnvMapping[] {
  return [...CORE_ENV_MAPPINGS, ...providerModules().flatMap((m) => m.env.map((e): EnvMapping => [e.name, `providers.${m.name}.${e.key}`, e.parse]))];
}

/** Sets a dotted path in a nested object, creating objects on the way. */
export function setPath(target: ConfigLayer, path: string, value: unknown): void {
  const keys = path.split('.');
  let node: ConfigLayer = target;
  keys.slice(0, -1).forEach((k) => {
    const next = node[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[k] = {};
    node = node[k] as ConfigLayer;
  });
  node[keys[keys.length - 1] as string] = value;
}

function flatten(layer: ConfigLayer, prefix = ''): Array<[string, unknown]> {
  return Object.entries(layer).flatMap(([k, v]): Array<[string, unknown]> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? flatten(v as ConfigLayer, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
}

function merge(base: ConfigLayer, layer: ConfigLayer): ConfigLayer {
  const out: ConfigLayer = structuredClone(base);
  for (const [path, value] of flatten(layer)) setPath(out, path, value);
  return out;
}

function describeZod(err: ZodError, sources: ConfigSources = {}): string {
  return err.issues
    .map((i) => {
      const key = i.path.join('.') || '(root)';
      const from = sources[key];
      // An unknown key (a typo) gets the list of the keys that are valid there.
      const valid = i.code === 'unrecognized_keys' ? ` (valid keys${i.path.length ? ` in ${key}` : ''}: ${keysBelow(i.path.join('.')).join(', ')})` : '';
      return `${from ? `${from.replace(/^env /, '')} (${key})` : key}: ${i.message}${valid}`;
    })
    .join('; ');
}

function readJsonLayer(file: string): ConfigLayer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AppError('usage', `cannot read config file ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the top level must be a JSON object');
    return parsed as ConfigLayer;
  } catch (e) {
    throw new AppError('usage', `config file ${file} is not valid JSON: ${(e as Error).message}`, {
      hint: `Fix or remove ${file}.`,
    });
  }
}

/** Builds the env-var layer: only variables that are set and non-empty count. */
export function envLayer(env: NodeJS.ProcessEnv): { layer: ConfigLayer; sources: ConfigSources } {
  const layer: ConfigLayer = {};
  const sources: ConfigSources = {};
  for (const [name, path, parse] of envMappings()) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(layer, path, parse(raw));
    sources[path] = `env ${name}`;
  }
  return { layer, sources };
}

/**
 * Loads the effective configuration: defaults < ~/.parallel-cc/sandbox.json < <repo>/.parallel-cc.json
 * < environment < --template < flags. Each layer is validated as it is applied, so an error names the layer (file
 * or variable) and the key, with the allowed values. Nothing falls back silently.
 */
export function loadConfig(input: LoadConfigInput): { config: Config; sources: ConfigSources } {
  const env = envLayer(input.env);
  const schema = configSchema();
  const layers: Array<{ name: string; layer: ConfigLayer | undefined; sources?: ConfigSources }> = [
    { name: join(input.home, 'sandbox.json'), layer: readJsonLayer(join(input.home, 'sandbox.json')) },
    ...(input.repoRoot ? [{ name: join(input.repoRoot, '.parallel-cc.json'), layer: readJsonLayer(join(input.repoRoot, '.parallel-cc.json')) }] : []),
    { name: 'environment', layer: env.layer, sources: env.sources },
    ...(input.template ? [{ name: `template ${input.template.name}`, layer: input.template.layer }] : []),
    { name: 'command-line flags', layer: input.flags },
  ];
  let merged: ConfigLayer = {};
  const sources: ConfigSources = {};
  for (const { name, layer, sources: layerSources } of layers) {
    if (!layer) continue;
    merged = merge(merged, layer);
    const check = schema.safeParse(merged);
    if (!check.success) {
      const where = name === 'environment' ? 'an environment variable' : name;
      throw new AppError('usage', `invalid configuration in ${where}: ${describeZod(check.error, layerSources)}`, {
        hint: name === 'environment' ? `Check the PARALLEL_CC_* variables (${Object.values(env.sources).join(', ')}).` : `Fix ${name}.`,
      });
    }
    for (const [path] of flatten(layer)) sources[path] = layerSources?.[path] ?? name;
  }
  const config = schema.parse(merged) as Config;
  for (const [path] of flatten(config)) sources[path] ??= 'default';
  return { config, sources };
}
