import { resolve } from 'node:path';
import ignore from 'ignore';
import type { Context } from '../../core/context.js';
import { gitRaw, splitZ } from '../../core/git.js';
import { findSession, viewSession } from '../../core/ops/view.js';
import { extractSafely } from '../../core/sync/extract.js';
import { agentStartCommit } from '../../core/recover.js';
import { AppError } from '../../errors.js';
import { execCollect, type SandboxHandle, type SandboxProvider } from '../../providers/provider.js';
import type { Session } from '../../store/sessions.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from '../../core/registry.js';
import { sandboxDirOf } from '../../core/sandbox-dir.js';

/** Options of `parallel-cc sandbox download`. */
export interface DownloadFlags {
  sessionId?: string;
  output?: string;
  selective?: boolean;
  all?: boolean;
  filter?: string;
  json?: boolean;
}

/** What was downloaded. */
export interface DownloadOutput {
  sessionId: string;
  output: string;
  source: 'branch' | 'live-sandbox';
  files: string[];
}

async function fromBranch(s: Session, selective: boolean): Promise<Buffer | undefined> {
  if (!s.branch || !s.baseCommit) throw new AppError('not_found', `session ${s.id} brought no results back (no branch)`);
  const ref = `refs/heads/${s.branch}`;
  const paths = selective ? splitZ(await gitRaw(s.repoPath, ['diff', '--name-only', '-z', '--no-renames', '--diff-filter=d', await agentStartCommit(s), ref])) : undefined;
  if (paths && paths.length === 0) return undefined;
  return gitRaw(s.repoPath, ['archive', '--format=tar', ref, ...(paths ? ['--', ...paths] : [])]);
}

async function fromSandbox(provider: SandboxProvider, box: SandboxHandle, s: Session, selective: boolean): Promise<Buffer | undefined> {
  // A private index: the agent's own index and refs stay exactly as they are while it works.
  const env = { GIT_INDEX_FILE: '/tmp/.parallel-cc-download-index', GIT_CONFIG_NOSYSTEM: '1' };
  const g = async (args: string[]): Promise<Buffer> => {
    const r = await execCollect(provider, box, { argv: ['git', '-c', 'core.hooksPath=/dev/null', ...args], env });
    if (r.exitCode !== 0) throw new AppError('agent', `git ${args[0] ?? ''} failed in the sandbox: ${r.stderr.trim()}`);
    return r.stdout;
  };
  await g(['read-tree', 'HEAD']);
  await g(['add', '--all']);
  const tree = (await g(['write-tree'])).toString().trim();
  const paths = selective ? splitZ(await g(['diff', '--name-only', '-z', '--no-renames', '--diff-filter=d', s.sandboxStart as string, tree])) : undefined;
  if (paths && paths.length === 0) return undefined;
  return g(['archive', '--format=tar', tree, ...(paths ? ['--', ...paths] : [])]);
}

/**
 * `parallel-cc sandbox download`: the changed files (default, --selective) or all files (--all) of a
 * session into a folder — from the live sandbox while it runs, from its branch once it ended — through
 * the same safety checks as results (no path escape, no symlink out, nothing written on refusal).
 */
export async function downloadCommand(flags: DownloadFlags, ctx: Context): Promise<DownloadOutput> {
  if (flags.selective && flags.all) throw new AppError('usage', 'use either --selective or --all, not both');
  const selective = flags.all !== true;
  const output = resolve(ctx.cwd, flags.output ?? 'sandbox-results');
  const keep = flags.filter ? ((ig) => (p: string): boolean => ig.ignores(p))(ignore().add(flags.filter)) : undefined;
  return withRegistry(ctx, async (sessions) => {
    const s = findSession(sessions, flags.sessionId);
    const liveness = viewSession(s, ctx.now()).liveness;
    const candidate = (liveness === 'active' || liveness === 'orphaned') && s.kind === 'sandbox' && s.sandboxStart !== null;
    const found = candidate ? await providerFor(s, ctx) : undefined;
    // An orphaned session's sandbox is still there only where sandboxes outlive their CLI (cloud).
    const provider = liveness === 'active' || found?.capabilities.survivesCli ? found : undefined;
    const sandboxDir = sandboxDirOf(s);
    const box = provider?.reconnect && s.sandboxId ? await provider.reconnect(s.sandboxId, { sessionId: s.id, ...(sandboxDir ? { sandboxDir } : {}) }) : undefined;
    let archive: Buffer | undefined;
    try {
      archive = box && provider ? await fromSandbox(provider, box, s, selective) : await fromBranch(s, selective);
    } finally {
      if (box && provider) await provider.destroy(box, { keep: true });
    }
    const files = archive ? (await extractSafely(archive, output, keep)).files : [];
    return { sessionId: s.id, output, source: box ? 'live-sandbox' : 'branch', files };
  });
}
