/** Small formatters for human text (phase messages, tables); --json keeps the raw numbers. */

/** `1 file`, `2 files`; `plural(1, 'process', 'processes')`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const UNITS = ['kB', 'MB', 'GB', 'TB'];

/** Decimal sizes as `ls -h --si`/Finder show them: `512 B`, `1.2 kB`, `3.4 MB`. */
export function humanBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '? B';
  if (n < 1000) return `${Math.round(n)} B`;
  let v = n;
  let unit = -1;
  do {
    v /= 1000;
    unit++;
  } while (v >= 999.95 && unit < UNITS.length - 1);
  return `${v.toFixed(1)} ${UNITS[unit] ?? 'TB'}`;
}

/** Seconds with one decimal, never negative (nor `-0.0s`): a clock step or rounding gives `0.0s`. */
export function fmtSecondsTenths(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** Whole seconds for people: 75000 → `1m 15s`, 7000 → `7s`. Negative counts as 0. */
export function fmtElapsed(ms: number): string {
  const whole = Math.floor(Math.max(0, ms) / 1000);
  return whole < 60 ? `${whole}s` : `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
}

/** Dollars with four decimals, or `n/a`. */
export function fmtCost(c: number | null | undefined): string {
  return c === null || c === undefined ? 'n/a' : `$${c.toFixed(4)}`;
}

/** Collapses whitespace and cuts to `max` characters with `…`. */
export function cutEnd(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  if (max <= 0) return '';
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Cuts a path from the left (`…/worktrees/abc`): the end of a path says the most. */
export function cutStart(s: string, max: number): string {
  if (max <= 0) return '';
  return s.length > max ? `…${s.slice(s.length - max + 1)}` : s;
}
