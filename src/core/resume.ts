import { lstat, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Agent } from '../agents/agent.js';
import { agentFor } from '../agents/registry.js';
import { AppError } from '../errors.js';
import { execCollect, type SandboxHandle, type SandboxProvider } from '../providers/provider.js';
import { isTerminal, type SessionRepository } from '../store/sessions.js';
import { branchTip } from './merge/refs.js';
import { worktreeChanges } from './merge/safety.js';
import { findSession } from './ops/view.js';
import { claimBranch, type BranchClaim } from './run-options/worktree.js';

/** The agent's conversation kept in the session folder on the host after every run. */
export const TRANSCRIPT_FILE = 'agent-transcript.jsonl';
/** Which conversation it is (`{ "agentSessionId": … }`). */
export const TRANSCRIPT_META = 'agent-transcript.json';
/** A transcript bigger than this is not kept (it is sandbox output: hostile, and it travels back in). */
export const TRANSCRIPT_MAX_BYTES = 32 * 1024 * 1024;
const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A run that continues a session (`sandbox resume`): its branch and worktree, and the conversation to restore. */
export interface ContinueRun {
  resumedFrom: string;
  branch: string;
  worktreePath: string;
  /** Launch arguments that continue the conversation. */
  agentArgs: string[];
  /** The transcript, placed in the new sandbox's home before the agent starts. */
  agentFiles(sandbox: SandboxHandle): Array<{ path: string; content: string }>;
}

/** Checks a transcript as hostile data: size, UTF-8, every line a JSON object. Returns it as text. */
export function validTranscript(data: Buffer): string {
  if (data.length === 0 || data.length > TRANSCRIPT_MAX_BYTES) throw new Error(`transcript of ${data.length} bytes (at most ${TRANSCRIPT_MAX_BYTES})`);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const v: unknown = JSON.parse(line);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('a transcript line is not a JSON object');
  }
  return text;
}

/** The agent's conversation id, from the run's own event log (its `init` event). */
async function conversationId(logPath: string): Promise<string | undefined> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.includes('"init"')) continue;
    const e = JSON.parse(line) as { type?: string; agentSessionId?: unknown };
    if (e.type === 'init' && typeof e.agentSessionId === 'string' && CONVERSATION_ID.test(e.agentSessionId)) return e.agentSessionId;
  }
  return undefined;
}

// Inside the sandbox: only a regular file (no link), at most max+1 bytes, so the host can tell it is too big.
const READ_TRANSCRIPT = 'f=$1; [ -f "$f" ] && [ ! -L "$f" ] || exit 3; head -c "$2" -- "$f"';

// The newest transcript the agent keeps for the run's folder ($1): the run's own, whose id is known
// only from the agent's output, after this is launched (a chained step). `<name> <bytes>\n`, then
// at most $2 of its bytes; nothing when there is none.
const NEWEST_TRANSCRIPT = `cd -- "$1" 2>/dev/null || exit 0
best=
for f in *.jsonl; do
  case $f in *[!A-Za-z0-9._-]*) continue;; esac
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  [ -z "$best" ] || [ "$f" -nt "$best" ] && best=$f
done
[ -n "$best" ] || exit 0
n=$(head -c "$2" -- "$best" | wc -c)
printf '%s %s\\n' "$best" $n
head -c "$n" -- "$best"`;

/** The chained step that reads the transcript as the agent exits (see {@link keepTranscript}); none for an agent that cannot resume. */
export function transcriptStep(agent: Agent, sandbox: SandboxHandle): { argv: string[] } | undefined {
  if (!agent.resume) return undefined;
  const dir = posix.join(sandbox.homedir, posix.dirname(agent.resume.transcriptPath(sandbox.workdir, 'x')));
  return { argv: ['sh', '-c', NEWEST_TRANSCRIPT, 'sh', dir, String(TRANSCRIPT_MAX_BYTES + 1)] };
}

/** What {@link transcriptStep} printed, for conversation `id`: its bytes, null when there is none, undefined when it cannot tell. */
export function transcriptFromStep(step: { exitCode: number; stdout: Buffer } | undefined, id: string): Buffer | null | undefined {
  if (!step || step.exitCode !== 0) return undefined;
  if (step.stdout.length === 0) return null;
  const nl = step.stdout.indexOf(0x0a);
  const m = nl < 0 ? null : /^([A-Za-z0-9._-]{1,200}) (\d{1,12})$/.exec(step.stdout.subarray(0, nl).toString('latin1'));
  if (!m || m[1] !== `${id}.jsonl` || Number(m[2]) !== step.stdout.length - nl - 1) return undefined;
  return step.stdout.subarray(nl + 1);
}

/**
 * At the end of a run: copies the agent's transcript out of the sandbox into the session folder on
 * the host, validated as hostile data (regular file, size cap, JSON lines). `read` is what
 * {@link transcriptStep} printed, when it ran: used when it is this conversation's, else the file is
 * read. Returns a warning when one was refused, a debug note when there was none; never throws (the
 * run's outcome does not depend on it).
 */
export async function keepTranscript(provider: SandboxProvider, sandbox: SandboxHandle, agent: Agent, sessionDir: string, logPath: string, read?: { exitCode: number; stdout: Buffer }): Promise<{ type: 'warning' | 'debug'; message: string } | undefined> {
  if (!agent.resume) return undefined;
  try {
    const id = await conversationId(logPath);
    if (!id) return undefined;
    const path = posix.join(sandbox.homedir, agent.resume.transcriptPath(sandbox.workdir, id));
    const readOwn = async (): Promise<Buffer | null> => {
      const r = await execCollect(provider, sandbox, { argv: ['sh', '-c', READ_TRANSCRIPT, 'sh', path, String(TRANSCRIPT_MAX_BYTES + 1)], cwd: sandbox.homedir });
      return r.exitCode === 0 ? r.stdout : null;
    };
    // null: the step found none (no second look); undefined: it could not tell, so the file is read.
    const stepped = transcriptFromStep(read, id);
    const data = stepped !== undefined ? stepped : await readOwn();
    // An agent that ended before writing one (or an older claude): nothing to keep, nothing to warn about.
    if (data === null) return { type: 'debug', message: `no transcript ${id} in the sandbox: \`sandbox resume\` cannot restore this conversation` };
    const text = validTranscript(data);
    await writeFile(join(sessionDir, TRANSCRIPT_FILE), text, { mode: 0o600 });
    await writeFile(join(sessionDir, TRANSCRIPT_META), JSON.stringify({ agentSessionId: id }), { mode: 0o600 });
    return undefined;
  } catch (e) {
    return { type: 'warning', message: `the agent's conversation was not kept (${e instanceof Error ? e.message : String(e)}): \`sandbox resume\` cannot restore it` };
  }
}

/**
 * What `sandbox resume` needs from the session it continues: an ended sandbox session of an agent
 * that can resume, its branch and clean worktree, and the transcript kept from its run.
 */
export async function prepareResume(sessions: SessionRepository, raw: string): Promise<{ continueRun: ContinueRun; repo: string; provider: string; base: string | null; agent: string }> {
  const s = findSession(sessions, raw);
  const agent = agentFor(s.agent);
  if (!agent.resume) throw new AppError('usage', `resume is not supported for ${agent.name}: parallel-cc can only restore claude's conversation`, { hint: `Start a new session on its work instead: \`parallel-cc sandbox run --base ${s.branch ?? '<branch>'} --agent-cli ${agent.name} --prompt …\`.` });
  if (s.kind !== 'sandbox' || !isTerminal(s.status)) throw new AppError('usage', `session ${s.id} is ${s.kind === 'sandbox' ? s.status : 'a local session'}: only an ended sandbox session can be resumed`, { hint: 'Wait for it to end, or stop it with `parallel-cc sandbox kill`.' });
  if (!s.branch || !s.worktreePath || !(await branchTip(s.repoPath, s.branch)) || !(await lstat(s.worktreePath).catch(() => undefined)))
    throw new AppError('usage', `session ${s.id} has no branch and worktree to continue on (it brought nothing back, or they were cleaned up)`, { hint: 'Start a new session with `parallel-cc sandbox run`.' });
  // One run at a time on a branch: a resume (or --worktree run) already continuing it owns it.
  const live = sessions.list({ repoPath: s.repoPath }).find((x) => x.branch === s.branch && !isTerminal(x.status));
  if (live) throw new AppError('usage', `session ${live.id} is still ${live.status} on ${s.branch}`, { hint: 'Wait for it to end, or stop it with `parallel-cc sandbox kill`.' });
  const dirty = await worktreeChanges(s.worktreePath);
  if (dirty.length > 0) throw new AppError('usage', `the worktree ${s.worktreePath} has uncommitted changes (${dirty.slice(0, 3).map((l) => l.slice(3)).join(', ')})`, { hint: 'Commit or remove them first: the agent continues from the branch.' });
  // No session folder (a row from before them): nothing was kept — never a path relative to the cwd.
  const dir = s.sessionDir;
  const meta = dir === null ? undefined : await readFile(join(dir, TRANSCRIPT_META), 'utf8').then((t) => JSON.parse(t) as { agentSessionId?: unknown }, () => undefined);
  const id = typeof meta?.agentSessionId === 'string' && CONVERSATION_ID.test(meta.agentSessionId) ? meta.agentSessionId : undefined;
  const transcript = id && dir !== null ? await readFile(join(dir, TRANSCRIPT_FILE)).then(validTranscript, () => undefined) : undefined;
  if (!id || transcript === undefined) throw new AppError('not_found', `no conversation was kept for session ${s.id}`, { hint: 'Its run ended before the agent started, or ran with an older parallel-cc. Start a new session on its branch: `parallel-cc sandbox run --base ' + s.branch + ' --prompt …`.' });
  const resume = agent.resume;
  return {
    repo: s.repoPath,
    provider: s.provider,
    base: s.baseCommit,
    agent: agent.name,
    continueRun: { resumedFrom: s.id, branch: s.branch, worktreePath: s.worktreePath, agentArgs: resume.args(id), agentFiles: (box) => [{ path: resume.transcriptPath(box.workdir, id), content: transcript }] },
  };
}

/** The worktree a resumed run continues in: its parent's, still clean, at its branch's tip. */
export async function continueWorktree(repo: string, c: ContinueRun, claim: BranchClaim): Promise<{ path: string; branch: string; startCommit: string; snapshotCommit?: string }> {
  claimBranch(claim, c.branch, `cannot continue on ${c.branch}`);
  const tip = await branchTip(repo, c.branch);
  const dirty = await worktreeChanges(c.worktreePath);
  if (!tip || dirty.length > 0) throw new AppError('usage', `cannot continue on ${c.branch}: ${tip ? `its worktree ${c.worktreePath} has uncommitted changes` : 'the branch is gone'}`, { hint: 'Commit or remove the changes, then resume again.' });
  return { path: c.worktreePath, branch: c.branch, startCommit: tip };
}
