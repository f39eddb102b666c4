import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { shellJoin } from '../../providers/remote/quote.js';
import type { Session } from '../../store/sessions.js';
import type { Context } from '../context.js';
import { run } from '../exec.js';
import { git } from '../git.js';
import { Redactor } from '../redact.js';
import { withRegistry } from '../registry.js';
import { escapeControls } from '../sanitize.js';
import { findSession } from '../ops/view.js';
import { branchTip, currentBranch } from './refs.js';

/** What `parallel-cc pr` asks for. */
export interface PrRequest {
  session: string;
  remote?: string;
  title?: string;
  base?: string;
  draft?: boolean;
}

/** What `pr` did: pushed and opened with gh, or the commands to do it by hand. */
export interface PrOutput {
  sessionId: string;
  branch: string;
  remote: string;
  base: string;
  title: string;
  body: string;
  via: 'gh' | 'manual';
  pushed: boolean;
  /** The pull request's URL (gh's answer). */
  url?: string;
  /** Without gh: the exact push, then where to open the pull request. */
  commands?: string[];
  compareUrl?: string;
}

/** `owner/repo` of a GitHub remote URL (https, ssh://, scp-like git@host:owner/repo), or undefined. */
export function githubSlug(url: string): { host: string; slug: string } | undefined {
  const m = /^(?:https?:\/\/(?:[^@/]+@)?|ssh:\/\/(?:[^@/]+@)?|(?:[^@/]+@))(github\.com)(?::\d+)?[/:]([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(url.trim());
  return m?.[1] && m[2] ? { host: m[1], slug: m[2] } : undefined;
}

/** Fails unless `remote` is a remote of the repository (checked before a run with --git-live starts). */
export async function checkRemote(repo: string, remote: string): Promise<string> {
  try {
    return await git(repo, ['remote', 'get-url', '--', remote]);
  } catch (e) {
    throw new AppError('usage', `no git remote "${remote}" in ${repo}`, { hint: `Add it (\`git -C ${repo} remote add ${remote} <url>\`) or name another with --remote.`, cause: e });
  }
}

/** The pull request's body: the prompt excerpt (redacted, controls escaped), commits, files, cost, checks. */
async function prBody(s: Session, repo: string, branch: string, base: string, redactor: Redactor): Promise<string> {
  const from = s.baseCommit ?? base;
  const commits = await git(repo, ['log', '--reverse', '--format=- %h %s', `${from}..refs/heads/${branch}`]);
  const files = await git(repo, ['diff', '--name-only', from, `refs/heads/${branch}`]);
  const hooks = s.hooks ? (JSON.parse(s.hooks) as Array<{ hook: string; command: string; exitCode: number | null }>) : [];
  const clean = (t: string): string => escapeControls(redactor.text(t));
  return [
    `Session \`${s.id}\` (${s.provider}${s.agent ? `, ${s.agent}` : ''}) by parallel-cc.`,
    '',
    '## Task',
    ...clean(s.promptExcerpt ?? '(no prompt recorded)').split('\n').map((l) => `> ${l}`),
    '',
    '## Commits',
    clean(commits) || '(none)',
    '',
    '## Files',
    clean(files.split('\n').filter(Boolean).map((f) => `- \`${f}\``).join('\n')) || '(none)',
    '',
    `Cost: ${s.costUsd === null ? 'n/a' : `$${s.costUsd.toFixed(4)}`}${s.sandboxCostUsd ? ` + sandbox $${s.sandboxCostUsd.toFixed(4)}` : ''}`,
    `Checks: ${hooks.length ? hooks.map((h) => `${h.hook} \`${clean(h.command)}\` → ${h.exitCode === 0 ? 'passed' : `exit ${String(h.exitCode)}`}`).join('; ') : 'none ran'}`,
  ].join('\n');
}

/** True when `gh` is on PATH and logged in (`gh auth status`). */
async function ghReady(ctx: Context, repo: string): Promise<boolean> {
  const r = await run(['gh', 'auth', 'status'], { cwd: repo, env: ctx.env, okCodes: [0, 1, 2, 4] }).catch(() => undefined);
  return r?.exitCode === 0;
}

/**
 * `parallel-cc pr <session>`: pushes the session's branch and opens a pull request with `gh` when it
 * is installed and logged in; otherwise pushes nothing and returns the exact push command and the
 * compare URL. The only place parallel-cc pushes (also used by `sandbox run --git-live`).
 */
export async function openPullRequest(req: PrRequest, ctx: Context): Promise<PrOutput> {
  const s = await withRegistry(ctx, (sessions) => findSession(sessions, req.session));
  const branch = s.branch;
  if (!branch || !(await branchTip(s.repoPath, branch))) throw new AppError('not_found', `session ${s.id} has no branch to push`, { hint: 'Only a session that brought commits back has a branch (see `parallel-cc status --all`).' });
  const repo = s.repoPath;
  const remote = req.remote ?? 'origin';
  const url = await checkRemote(repo, remote);
  const base = req.base ?? (s.baseRef && s.baseRef !== 'HEAD' ? s.baseRef : await currentBranch(repo));
  const redactor = Redactor.fromEnv(ctx.env);
  const title = escapeControls(redactor.text(req.title ?? (s.promptExcerpt?.split('\n')[0]?.slice(0, 72) || `parallel-cc session ${s.id}`)));
  const body = await prBody(s, repo, branch, base, redactor);
  const push = ['git', '-C', repo, 'push', remote, `refs/heads/${branch}:refs/heads/${branch}`];
  const out = { sessionId: s.id, branch, remote, base, title, body };
  if (await ghReady(ctx, repo)) {
    await run(push, { env: ctx.env, errorKind: 'environment', hint: `Check that you may push to ${remote}.` });
    const dir = await mkdtemp(join(tmpdir(), 'pcc-pr-'));
    try {
      const bodyFile = join(dir, 'body.md');
      await writeFile(bodyFile, body, { mode: 0o600 });
      const gh = await run(['gh', 'pr', 'create', '--head', branch, '--base', base, '--title', title, '--body-file', bodyFile, ...(req.draft ? ['--draft'] : [])], { cwd: repo, env: ctx.env, errorKind: 'environment', hint: `The branch is pushed to ${remote}; open the pull request by hand.` });
      const prUrl = gh.stdout.toString('utf8').trim().split('\n').pop();
      return { ...out, via: 'gh', pushed: true, ...(prUrl ? { url: prUrl } : {}) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const gh = githubSlug(url);
  const compareUrl = gh ? `https://${gh.host}/${gh.slug}/compare/${encodeURIComponent(base)}...${encodeURIComponent(branch)}?expand=1` : undefined;
  return { ...out, via: 'manual', pushed: false, commands: [shellJoin(push)], ...(compareUrl ? { compareUrl } : {}) };
}
