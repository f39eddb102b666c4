import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import ignore from 'ignore';
import { AppError } from '../../errors.js';
import { type SandboxHandle, type SandboxProvider } from '../../providers/provider.js';
import type { Session } from '../../store/sessions.js';
import { gitIdentity, splitZ } from '../git.js';
import { agentStartCommit } from '../recover.js';
import { collectSandboxResults } from '../sandbox-repo.js';
import { exportCommit, type ExportResult } from '../sync/export.js';
import { gitRunner } from '../sync/git-tree.js';
import { applySeries } from '../sync/apply-series.js';
import { openQuarantine } from '../sync/quarantine.js';
import { commonGitDir, objectStore } from '../sync/results.js';
import type { Context } from '../context.js';
import { checkOutputDir } from '../output-path.js';
import { withRegistry } from '../registry.js';
import { findSession, viewSession } from './view.js';
import { providerFor } from './provider-for.js';
import { withReconnected } from './reconnect.js';

/** What to export: the files the agent changed (selective) or every file, optionally filtered. */
export interface ExportChoice {
  selective: boolean;
  keep?: (path: string) => boolean;
}

/** Paths `to` adds or modifies relative to `from` (deletions have nothing to export). */
async function changedPaths(g: ReturnType<typeof gitRunner>, from: string, to: string): Promise<string[]> {
  return splitZ(await g(['diff', '--name-only', '-z', '--no-renames', '--diff-filter=d', from, to]));
}

/** Exports a finished session's files from its branch in the host repository (git objects only). */
export async function exportFromBranch(s: Session, outDir: string, choice: ExportChoice): Promise<ExportResult> {
  if (!s.branch || !s.baseCommit) throw new AppError('not_found', `session ${s.id} brought no results back (no branch)`);
  const g = gitRunner(await commonGitDir(s.repoPath));
  const tip = (await g(['rev-parse', '--verify', `refs/heads/${s.branch}^{commit}`])).toString().trim();
  const paths = choice.selective ? await changedPaths(g, await agentStartCommit(s), tip) : undefined;
  return exportCommit(g, tip, outDir, { verb: 'download', ...(paths ? { paths } : {}), ...(choice.keep ? { keep: choice.keep } : {}) });
}

/**
 * Exports a live session's files: its work so far is collected in the sandbox exactly like results
 * (without touching the agent's repo), applied in a quarantine on top of where the agent started and
 * judged like results; the files are then taken from that tree. Nothing lands on the branch.
 */
export async function exportFromSandbox(provider: SandboxProvider, box: SandboxHandle, s: Session, outDir: string, choice: ExportChoice): Promise<ExportResult> {
  if (!s.sandboxStart) throw new AppError('not_found', `session ${s.id} has no sandbox repository yet`);
  const identity = await gitIdentity(s.repoPath);
  const mbox = await collectSandboxResults(provider, box, { startCommit: s.sandboxStart, identity });
  const start = await agentStartCommit(s);
  const q = await openQuarantine(s.sessionDir ?? tmpdir(), await objectStore(s.repoPath));
  try {
    let tip = start;
    if (mbox.length > 0) {
      const applied = await applySeries(q, start, mbox, identity);
      if (applied.problems.length > 0 || applied.applyError) {
        const why = [...applied.problems.map((p) => `${p.path}: ${p.problem}`), ...(applied.applyError ? [applied.applyError] : [])].join('; ');
        throw new AppError('results', `refused to download: ${why}`, {
          hint: 'Nothing was written. The sandbox holds files that must not land on the host.',
        });
      }
      tip = applied.tip;
    }
    const paths = choice.selective ? await changedPaths(q.g, start, tip) : undefined;
    if (paths && paths.length === 0) return { files: [], missing: [] };
    return await exportCommit(q.g, tip, outDir, { verb: 'download', ...(paths ? { paths } : {}), ...(choice.keep ? { keep: choice.keep } : {}) });
  } finally {
    await q.remove();
  }
}

/** What `parallel-cc sandbox download` (and MCP `sandbox_download`) asks for. */
export interface DownloadRequest {
  sessionId?: string;
  output?: string;
  selective?: boolean;
  all?: boolean;
  filter?: string;
}

/** What was downloaded. */
export interface DownloadOutput {
  sessionId: string;
  output: string;
  source: 'branch' | 'live-sandbox';
  files: string[];
}

/**
 * The download use case: the changed files (default, --selective) or all files (--all) of a session
 * into a folder — from the live sandbox while it runs, from its branch once it ended — through the
 * same judgement as results (no path escape, no symlink out, nothing written on refusal), always from
 * git objects. The folder is checked here: every caller (CLI, MCP) writes through this.
 */
export async function downloadSession(flags: DownloadRequest, ctx: Context): Promise<DownloadOutput> {
  if (flags.selective && flags.all) throw new AppError('usage', 'use either --selective or --all, not both');
  const selective = flags.all !== true;
  // Before anything else: a bad folder is a usage error, and recursive mkdir below /proc never returns.
  const output = await checkOutputDir('--output', resolve(ctx.cwd, flags.output ?? 'sandbox-results'));
  const keep = flags.filter ? ((ig) => (p: string): boolean => ig.ignores(p))(ignore().add(flags.filter)) : undefined;
  return withRegistry(ctx, async (sessions) => {
    const s = findSession(sessions, flags.sessionId);
    const liveness = viewSession(s, ctx.now()).liveness;
    const candidate = (liveness === 'active' || liveness === 'orphaned') && s.kind === 'sandbox' && s.sandboxStart !== null;
    const found = candidate ? await providerFor(s, ctx) : undefined;
    // An orphaned session's sandbox is still there only where sandboxes outlive their CLI (cloud).
    const provider = liveness === 'active' || found?.capabilities.survivesCli ? found : undefined;
    const choice = { selective, ...(keep ? { keep } : {}) };
    const live = await withReconnected(s, { provider }, (box, p) => exportFromSandbox(p, box, s, output, choice));
    const files = (live ? live.value : await exportFromBranch(s, output, choice)).files;
    return { sessionId: s.id, output, source: live ? 'live-sandbox' : 'branch', files };
  });
}
