import type { UploadPlan } from './plan.js';

/**
 * The excluded part of a run's upload line: the real count and its kinds, with the secrets named,
 * e.g. `2 excluded: 1 secret (.env), 1 ignored`. Paths listed twice (the user's checkout and the
 * session worktree both saw them) count once.
 */
export function describeExcluded(excluded: UploadPlan['excluded']): string {
  const byPath = new Map(excluded.map((x) => [x.path, x.reason]));
  if (byPath.size === 0) return '0 excluded';
  const secrets = [...byPath].filter(([, r]) => r === 'secret').map(([p]) => p).sort();
  const ignored = byPath.size - secrets.length;
  const shown = secrets.slice(0, 5).join(', ') + (secrets.length > 5 ? `, … ${secrets.length - 5} more` : '');
  const parts = [...(secrets.length ? [`${secrets.length} secret${secrets.length === 1 ? '' : 's'} (${shown})`] : []), ...(ignored ? [`${ignored} ignored`] : [])];
  return `${byPath.size} excluded: ${parts.join(', ')}`;
}
