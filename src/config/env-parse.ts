/** Parsers of environment variable values; a value that does not parse is passed on for zod to reject with the key's name. */

/** Comma-separated list, blanks dropped. */
export const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);
/** A number, or the raw string (zod names the variable when it is not one). */
export const num = (v: string): unknown => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
/** 1/true/yes/on and 0/false/no/off, or the raw string. */
export const bool = (v: string): unknown => (/^(1|true|yes|on)$/i.test(v) ? true : /^(0|false|no|off)$/i.test(v) ? false : v);
/** The value as it is. */
export const str = (v: string): string => v;

/** A size in bytes. */
export function sizeBytes(v: string | number): number {
  if (typeof v === 'number') return Math.round(v * 1024 * 1024);
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)/i.exec(v.trim());
  const n = Number(m?.[1] ?? NaN);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m?.[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(n * unit);
}

/** A size as docker/our limits write it: whole MiB (`2048m`). */
export function sizeMib(v: string | number): string {
  return `${Math.max(1, Math.round(sizeBytes(v) / 1024 / 1024))}m`;
}
