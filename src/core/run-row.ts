import { createHash } from 'node:crypto';
import type { Agent } from '../agents/agent.js';
import type { SessionRepository } from '../store/sessions.js';
import { componentLabel } from './components/types.js';
import type { RunRequest } from './run-request.js';

/** Where a new session lives, as runSession decided it before the row exists. */
export interface RowPlace {
  id: string;
  repo: string;
  baseCommit: string;
  branch: string;
  worktreePath: string;
  promptPath: string;
  sessionDir: string;
  logPath: string;
}

/**
 * Registers a run's session row (status `pending`) with everything known before it starts: where
 * it works, what it was asked (a hash and a redacted excerpt, never the whole prompt), what it was
 * started from (template, workflow attempt, resumed parent, batch and task).
 */
export function createRunRow(sessions: SessionRepository, req: RunRequest, agent: Agent, at: RowPlace, redact: (text: string) => string): void {
  sessions.create({
    id: at.id,
    repoPath: at.repo,
    baseRef: req.base ?? 'HEAD',
    baseCommit: at.baseCommit,
    branch: at.branch,
    worktreePath: at.worktreePath,
    provider: req.provider,
    agent: agent.name,
    ...(req.template ? { template: req.template.name } : {}),
    ...(req.continue ? { resumedFrom: req.continue.resumedFrom } : {}),
    ...(req.components?.length ? { components: JSON.stringify(req.components.map(componentLabel)) } : {}),
    promptHash: createHash('sha256').update(req.prompt).digest('hex'),
    promptPath: at.promptPath,
    promptExcerpt: redact(req.prompt.slice(0, 200)),
    pid: process.pid,
    timeoutSeconds: Math.round(req.timeoutMinutes * 60),
    outputLogPath: at.logPath,
    sessionDir: at.sessionDir,
    ...(req.groupId !== undefined ? { groupId: req.groupId } : {}),
    ...(req.taskId !== undefined ? { taskId: req.taskId } : {}),
    ...(req.workflow ? { workflow: req.workflow.name, ...(req.workflow.attemptOf !== undefined ? { attemptOf: req.workflow.attemptOf } : {}) } : {}),
  });
}
