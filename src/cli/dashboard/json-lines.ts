import type { DashboardModel } from '../../core/dashboard/model.js';
import { escapeJsonControls } from '../../core/sanitize.js';

/** The model's fields that only say how old things are: they change on every tick and are no change. */
const CLOCK_FIELDS = new Set(['generatedAt', 'inStateMs', 'heartbeatAgeMs', 'oldestRunningMs']);

/** What a model shows apart from the clock: two models with the same key say the same thing. */
export function changeKey(m: DashboardModel): string {
  return JSON.stringify(m, (k, v: unknown) => (CLOCK_FIELDS.has(k) ? undefined : v));
}

/** One model as one line of JSON (control characters escaped: the strings came from sandboxes). */
export const modelLine = (m: DashboardModel): string => `${escapeJsonControls(JSON.stringify(m))}\n`;

/**
 * `dashboard --json` (live): writes the first model, then a model whenever it shows something new —
 * not on every tick, whose only news is the clock. Returns the unsubscribe.
 */
export function jsonLines(first: DashboardModel, subscribe: (fn: (m: DashboardModel) => void) => () => void, write: (line: string) => void): () => void {
  let last = changeKey(first);
  write(modelLine(first));
  return subscribe((m) => {
    const key = changeKey(m);
    if (key === last) return;
    last = key;
    write(modelLine(m));
  });
}
