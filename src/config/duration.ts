/**
 * Durations as people write them: `30m`, `1800s`, `1.5h`, or a plain number in the unit of the
 * place it is given in (minutes for --timeout and `timeoutMinutes`, seconds for
 * PARALLEL_CC_SANDBOX_TIMEOUT, as the spec has it). Returns minutes, or undefined if `raw` is not one.
 */
export function durationMinutes(raw: string, plainUnit: 's' | 'm'): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(raw.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? plainUnit;
  return unit === 's' ? n / 60 : unit === 'h' ? n * 60 : n;
}
