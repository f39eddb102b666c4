import type { ZodTypeAny } from 'zod';
import { configSchema } from './schema.js';

/** One configuration key as `config keys` lists it. */
export interface ConfigKey {
  key: string;
  /** e.g. `number`, `boolean`, `string[]`, `native | docker | …`. */
  type: string;
  /** The default value, or null when the key has none (unset). */
  default: unknown;
  /** The environment variable that sets it, if any. */
  env: string | null;
}

interface Def {
  typeName?: string;
  innerType?: ZodTypeAny;
  schema?: ZodTypeAny;
  type?: ZodTypeAny;
  values?: readonly string[];
  defaultValue?: () => unknown;
  shape?: () => Record<string, ZodTypeAny>;
}

const defOf = (t: ZodTypeAny): Def => t._def as Def;

/** Strips default/optional/preprocess wrappers; returns the core type and the default, if any. */
function unwrap(t: ZodTypeAny): { core: ZodTypeAny; dflt: unknown } {
  let core = t;
  let dflt: unknown = null;
  for (;;) {
    const d = defOf(core);
    if (d.typeName === 'ZodDefault' && d.innerType) {
      dflt = d.defaultValue?.() ?? null;
      core = d.innerType;
    } else if (d.typeName === 'ZodOptional' && d.innerType) core = d.innerType;
    else if (d.typeName === 'ZodEffects' && d.schema) core = d.schema;
    else return { core, dflt };
  }
}

function typeName(t: ZodTypeAny): string {
  const d = defOf(t);
  if (d.typeName === 'ZodEnum') return (d.values ?? []).join(' | ');
  if (d.typeName === 'ZodArray') return `${d.type ? typeName(unwrap(d.type).core) : 'unknown'}[]`;
  return (d.typeName ?? 'unknown').replace(/^Zod/, '').toLowerCase();
}

function walk(t: ZodTypeAny, prefix: string, out: ConfigKey[], env: ReadonlyArray<readonly [string, string, ...unknown[]]>): void {
  const shape = defOf(t).shape?.() ?? {};
  for (const [name, field] of Object.entries(shape)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const { core, dflt } = unwrap(field);
    if (defOf(core).typeName === 'ZodObject') walk(core, key, out, env);
    else out.push({ key, type: key === 'timeoutMinutes' ? 'number | duration (30m, 1800s)' : typeName(core), default: dflt, env: env.find(([, path]) => path === key)?.[0] ?? null });
  }
}

/**
 * Every configuration key, read from the zod schema (the single source), with the variable of
 * `envMappings` (load.ts's envMappings(): [name, key, …]) that sets each.
 */
export function configKeys(envMappings: ReadonlyArray<readonly [string, string, ...unknown[]]> = []): ConfigKey[] {
  const out: ConfigKey[] = [];
  walk(configSchema(), '', out, envMappings);
  return out;
}

/** The valid keys directly below a dotted path (the root for ''), for "unknown key" errors. */
export function keysBelow(path: string): string[] {
  const depth = path ? path.split('.').length + 1 : 1;
  const names = configKeys()
    .filter((k) => (path ? k.key.startsWith(`${path}.`) : true))
    .map((k) => k.key.split('.').slice(0, depth).join('.'));
  return [...new Set(names)];
}
