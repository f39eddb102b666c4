import { humanBytes as size, plural } from '../core/format.js';
import type { UploadPlan } from '../core/sync/plan.js';


/**
 * The human lines of a --dry-run plan: a summary (counts, total size, the largest files, every
 * excluded secret); the whole file list and every ignored path only when `verbose`.
 */
export function planLines(plan: UploadPlan & { repo: string; base: string; provider: string }, verbose: boolean): string[] {
  const secrets = plan.excluded.filter((x) => x.reason === 'secret');
  const ignored = plan.excluded.filter((x) => x.reason !== 'secret');
  const largest = [...plan.files].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1)).slice(0, 5).filter((f) => f.size > 0);
  return [
    `Dry run: nothing will be created.`,
    `Repository  ${plan.repo}`,
    `Base        ${plan.base}`,
    `Provider    ${plan.provider}`,
    `Upload      ${plural(plan.files.length, 'file')}, ${size(plan.totalBytes)}`,
    ...(verbose
      ? plan.files.map((f) => `  + ${f.path}${f.kind === 'symlink' ? ' (symlink)' : ''}`)
      : [...(largest.length ? ['  largest:', ...largest.map((f) => `    ${size(f.size).padStart(10)}  ${f.path}`)] : []), ...(plan.files.length ? [`  (--verbose lists all ${plural(plan.files.length, 'file')})`] : [])]),
    `Excluded    ${plural(plan.excluded.length, 'path')}: ${plural(secrets.length, 'secret')}, ${ignored.length} ignored`,
    ...secrets.map((x) => `  - ${x.path} (secret)`),
    ...(verbose ? ignored.map((x) => `  - ${x.path} (${x.reason})`) : ignored.length ? [`  (--verbose lists the ${plural(ignored.length, 'ignored path')})`] : []),
  ];
}
