import type { Context } from '../../core/context.js';
import type { StreamEvent } from '../../core/events.js';
import { withRegistry } from '../../core/registry.js';
import { prepareResume } from '../../core/resume.js';
import { AppError } from '../../errors.js';
import { runCommand, type RunOutput } from './run.js';

/** Options of `parallel-cc sandbox resume`. */
export interface ResumeFlags {
  sessionId?: string;
  prompt?: string;
  promptFile?: string;
  timeout?: string;
  json?: boolean;
  stream?: boolean;
}

/**
 * `parallel-cc sandbox resume --session-id <id> --prompt "…"`: a new sandbox run (a child session,
 * `resumed_from`) on the session's branch and worktree, with the agent's conversation restored
 * (core/resume.ts). Same repository, provider and agent as the session it continues.
 */
export async function resumeCommand(flags: ResumeFlags, ctx: Context, emit: (e: StreamEvent) => void): Promise<RunOutput> {
  const id = flags.sessionId;
  if (id === undefined) throw new AppError('usage', 'which session?', { hint: 'parallel-cc sandbox resume --session-id <id> --prompt "…"' });
  if (flags.prompt === undefined && flags.promptFile === undefined) throw new AppError('usage', 'a prompt is required', { hint: 'Pass --prompt "<what to do next>" or --prompt-file <file>.' });
  const prep = await withRegistry(ctx, (sessions) => prepareResume(sessions, id));
  return runCommand(
    {
      repo: prep.repo,
      provider: prep.provider,
      agentCli: prep.agent,
      ...(prep.base ? { base: prep.base } : {}),
      ...(flags.prompt !== undefined ? { prompt: flags.prompt } : {}),
      ...(flags.promptFile !== undefined ? { promptFile: flags.promptFile } : {}),
      ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
      ...(flags.json ? { json: true } : {}),
    },
    ctx,
    emit,
    undefined,
    { continue: prep.continueRun },
  );
}
