import { availableParallelism } from 'node:os';
import { providerModule } from '../../providers/registry.js';
import { RESOURCE_FIELDS, type Template } from './schema.js';

/** What a template means for one run on one provider. */
export interface TemplatePlan {
  name: string;
  /** A config layer `{providers: {<provider>: {...}}}` (flags still win over it). */
  configLayer: Record<string, unknown>;
  /** Resource fields the provider cannot honour (said as a warning). */
  ignored: string[];
  /** What the provider changed (e.g. cpus clamped to the machine). */
  notes: string[];
  timeoutMinutes?: number;
  env: Record<string, string>;
  /** The template's setup commands as one command line (each must pass). */
  setup?: string;
  /** The package install command (best effort: a failure is a warning). */
  packages?: string;
  onSuccess?: string;
  onFailure?: string;
  allowDomains: string[];
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The install command of a template's packages, or undefined (`none`, or no packages). */
export function packagesCommand(t: Template): string | undefined {
  if (!t.packages?.length || !t.packageManager || t.packageManager === 'none') return undefined;
  // Package names were validated (no spaces, quotes or shell characters); quoted anyway: a vendor boundary that takes a string.
  const names = t.packages.map(quote).join(' ');
  return t.packageManager === 'pip' ? `python3 -m pip install --quiet --user ${names}` : `npm install --no-save --no-audit --no-fund --silent ${names}`;
}

/** Applies a template to a provider: its module maps the resource fields it honours; the rest is generic. */
export function planTemplate(t: Template, provider: string): TemplatePlan {
  const mod = providerModule(provider);
  const given = RESOURCE_FIELDS.filter((f) => t[f] !== undefined);
  const mapped = mod?.fromTemplate?.(t, { cpus: availableParallelism() }) ?? { config: {}, ignored: [...given] };
  const timeout = t.timeout === undefined ? undefined : typeof t.timeout === 'number' ? t.timeout / 60 : Number(t.timeout.slice(0, -1)) / { s: 60, m: 1, h: 1 / 60 }[t.timeout.slice(-1) as 's' | 'm' | 'h'];
  const packages = packagesCommand(t);
  return {
    name: t.name,
    configLayer: Object.keys(mapped.config).length ? { providers: { [provider]: mapped.config } } : {},
    ignored: given.filter((f) => mapped.ignored.includes(f)),
    notes: mapped.notes ?? [],
    ...(timeout !== undefined ? { timeoutMinutes: timeout } : {}),
    env: t.env ?? {},
    ...(t.setup?.length ? { setup: t.setup.map((c) => `(${c})`).join(' && ') } : {}),
    ...(packages ? { packages } : {}),
    ...(t.onSuccess ? { onSuccess: t.onSuccess } : {}),
    ...(t.onFailure ? { onFailure: t.onFailure } : {}),
    allowDomains: t.allowDomains ?? [],
  };
}
