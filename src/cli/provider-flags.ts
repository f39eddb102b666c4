import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { setPath } from '../config/load.js';
import { AppError } from '../errors.js';
import type { ProviderModule } from '../providers/module.js';
import { providerModules } from '../providers/registry.js';

/** The registered providers for a help text: `native (default), docker or e2b` (with `' or '`), or joined by `sep`. */
export function providerSummaries(last: string, sep = ', '): string {
  const all = providerModules().map((m) => m.summary);
  return all.length < 2 || last === sep ? all.join(sep) : `${all.slice(0, -1).join(sep)}${last}${all[all.length - 1] ?? ''}`;
}

/** The provider modules' `sandbox run` flags as commander options (`--docker-image`, `--e2b-template`, …). */
export function providerFlagOptions(): Option[] {
  return providerModules().flatMap((m) => [...(m.flags ?? []), ...(m.configFile ? [m.configFile] : [])].map((f) => new Option(f.flags, f.help)));
}

/** The settings-file flags given (`--native-config <file>`): their module, flag name and value. */
function givenFiles(flags: object): Array<{ m: ProviderModule; f: NonNullable<ProviderModule['configFile']>; flag: string; raw: string }> {
  const given = flags as Record<string, unknown>;
  return providerModules().flatMap((m) => {
    const f = m.configFile;
    const raw = f ? given[new Option(f.flags).attributeName()] : undefined;
    return f && typeof raw === 'string' ? [{ m, f, flag: f.flags.split(' ')[0] ?? f.flags, raw }] : [];
  });
}

/**
 * Reads the provider modules' settings-file flags (`--native-config <file>`) into `layer` (each
 * sets its provider's section); a file that cannot be read or honoured is a usage error naming
 * each key.
 */
export async function providerFileConfig(flags: object, cwd: string, layer: Record<string, unknown>): Promise<void> {
  for (const { m, f, flag, raw } of givenFiles(flags)) {
    const file = resolve(cwd, raw);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new AppError('usage', `cannot read ${flag} ${file}: ${(e as Error).message}`);
    }
    const parsed = (await f.load())(text);
    if ('problems' in parsed) throw new AppError('usage', `${flag} ${file}: ${parsed.problems.join('; ')}`, { hint: `Remove or change the keys named; \`parallel-cc sandbox run --help\` says what ${flag} maps.` });
    for (const [k, v] of Object.entries(parsed.section)) setPath(layer, `providers.${m.name}.${k}`, v);
  }
}

/** Refuses a settings-file flag of another provider than the run's (`--native-config` with `--provider docker`). */
export function checkProviderFiles(flags: object, provider: string): void {
  for (const { m, flag } of givenFiles(flags))
    if (m.name !== provider) throw new AppError('usage', `${flag} configures the ${m.name} provider; this run uses ${provider}`, { hint: `Drop ${flag}, or run with --provider ${m.name}.` });
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
