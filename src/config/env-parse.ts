/** Parsers of environment variable values; a value that does not parse is passed on for zod to reject with the key's name. */

/** Comma-separated list, blanks dropped. */
export const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);
/** A number, or the raw string (zod names the variable when it is not one). */
export const num = (v: string): unknown => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
/** 1/true/yes/on and 0/false/no/off, or the raw string. */
export const bool = (v: string): unknown => (/^(1|true|yes|on)$/i.test(v) ? true : /^(0|false|no|off)$/i.test(v) ? false : v);
/** The value as it is. */
export const str = (v: string): string => v;
