import { AppError } from '../../errors.js';
import type { RunFlags } from './run.js';

// The --multi flags alone, apart from multi.ts: a single run checks them without loading the batch
// runner (its scheduler, renderer and their modules are start-up time a single run does not need).

/** Raw options of `sandbox run --multi` (on top of the single-run ones). */
export interface MultiFlags extends RunFlags {
  multi?: boolean;
  task?: string[];
  taskFile?: string;
  maxConcurrent?: string;
  failFast?: boolean;
  outputDir?: string;
  budgetPerTask?: string;
  budget?: string;
}

/** Largest --max-concurrent accepted (each task is a sandbox plus an agent process). */
export const MAX_CONCURRENT_LIMIT = 64;

/** Flags that only make sense with --multi. */
const MULTI_ONLY: Array<[keyof MultiFlags, string]> = [
  ['task', '--task'],
  ['taskFile', '--task-file'],
  ['maxConcurrent', '--max-concurrent'],
  ['failFast', '--fail-fast'],
  ['outputDir', '--output-dir'],
  ['budgetPerTask', '--budget-per-task'],
  ['budget', '--budget'],
];

/** Rejects --multi-only flags on a single run (they would otherwise be silently ignored). */
export function rejectMultiOnlyFlags(flags: MultiFlags): void {
  const used = MULTI_ONLY.filter(([k]) => flags[k] !== undefined).map(([, name]) => name);
  if (used.length) throw new AppError('usage', `${used.join(', ')} ${used.length > 1 ? 'need' : 'needs'} --multi`, { hint: 'Add --multi to run several tasks at once.' });
}
