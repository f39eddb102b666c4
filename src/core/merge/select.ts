import { AppError } from '../../errors.js';
import { isTerminal, type Session, type SessionRepository } from '../../store/sessions.js';
import { findSession } from '../ops/view.js';

/**
 * Orders sessions so every one comes after the sessions whose branch it started from (a `--multi`
 * task's `after` dependencies start from their dependency's branch: `base_ref`), otherwise by task
 * id (numbers compared as numbers: task-2 before task-10; a batch's tasks start at once, so their
 * creation order is a race), then by creation.
 */
export function dependencyOrder(list: readonly Session[]): Session[] {
  const byBranch = new Map(list.filter((s) => s.branch).map((s) => [s.branch as string, s]));
  const sorted = [...list].sort((a, b) => (a.taskId ?? '').localeCompare(b.taskId ?? '', 'en', { numeric: true }) || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const out: Session[] = [];
  const seen = new Set<string>();
  const visit = (s: Session, path: Set<string>): void => {
    if (seen.has(s.id) || path.has(s.id)) return;
    path.add(s.id);
    const dep = s.baseRef ? byBranch.get(s.baseRef) : undefined;
    if (dep) visit(dep, path);
    seen.add(s.id);
    out.push(s);
  };
  for (const s of sorted) visit(s, new Set());
  return out;
}

/**
 * The sessions a merge or conflict check is about: the ids given (in that order), or every session
 * of a `--multi` group (dependency order). All must belong to one repository.
 */
export function selectSessions(sessions: SessionRepository, ids: readonly string[], group: string | undefined): Session[] {
  if (group !== undefined && ids.length > 0) throw new AppError('usage', 'give sessions or --group, not both', { hint: 'parallel-cc merge <session…> | --group <id>' });
  let list: Session[];
  if (group !== undefined) {
    list = dependencyOrder(sessions.list().filter((s) => s.groupId === group && s.kind === 'sandbox'));
    if (list.length === 0) throw new AppError('not_found', `no sessions in group ${group}`, { hint: 'See the group ids with `parallel-cc status --all --json` (groupId).' });
  } else {
    if (ids.length === 0) throw new AppError('usage', 'no sessions given', { hint: 'parallel-cc merge <session…> | --group <id>' });
    list = ids.map((id) => findSession(sessions, id));
  }
  const repos = new Set(list.map((s) => s.repoPath));
  if (repos.size > 1) throw new AppError('usage', `the sessions belong to different repositories: ${[...repos].join(', ')}`, { hint: 'Merge the sessions of one repository at a time.' });
  const running = list.filter((s) => !isTerminal(s.status));
  if (running.length > 0) throw new AppError('usage', `session ${running.map((s) => s.id).join(', ')} has not ended (${running.map((s) => s.status).join(', ')})`, { hint: 'Wait for it to end (`parallel-cc sandbox logs --follow <id>`) or stop it with `parallel-cc sandbox kill <id>`.' });
  return list;
}
