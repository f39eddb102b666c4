import { Option } from 'commander';
import { setPath } from '../config/load.js';
import { providerModules } from '../providers/registry.js';

/** The registered providers for a help text: `native (default), docker or e2b` (with `' or '`), or joined by `sep`. */
export function providerSummaries(last: string, sep = ', '): string {
  const all = providerModules().map((m) => m.summary);
  return all.length < 2 || last === sep ? all.join(sep) : `${all.slice(0, -1).join(sep)}${last}${all[all.length - 1] ?? ''}`;
}

/** The provider modules' `sandbox run` flags as commander options (`--docker-image`, `--e2b-template`, …). */
export function providerFlagOptions(): Option[] {
  return providerModules().flatMap((m) => (m.flags ?? []).map((f) => new Option(f.flags, f.help)));
}

/** The configuration layer of the provider modules' flags (each sets a key of its provider's section); `--multi` uses it too. */
export function providerFlagConfig(flags: object): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  const given = flags as Record<string, unknown>;
  for (const m of providerModules())
    for (const f of m.flags ?? []) {
      const value = given[new Option(f.flags).attributeName()];
      if (value !== undefined) setPath(layer, `providers.${m.name}.${f.key}`, value);
    }
  return layer;
}
