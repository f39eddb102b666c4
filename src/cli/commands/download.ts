import { resolve } from 'node:path';
import ignore from 'ignore';
import type { Context } from '../../core/context.js';
import { findSession, viewSession } from '../../core/ops/view.js';
import { exportFromBranch, exportFromSandbox } from '../../core/ops/download.js';
import { AppError } from '../../errors.js';
import { providerFor } from './provider-for.js';
import { checkOutputDir } from '../output-path.js';
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

/**
 * `parallel-cc sandbox download`: the changed files (default, --selective) or all files (--all) of a
 * session into a folder — from the live sandbox while it runs, from its branch once it ended — through
 * the same judgement as results (no path escape, no symlink out, nothing written on refusal), always
 * from git objects (`core/ops/download.ts`).
 */
export async function downloadCommand(flags: DownloadFlags, ctx: Context): Promise<DownloadOutput> {
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
    const sandboxDir = sandboxDirOf(s);
    const box = provider?.reconnect && s.sandboxId ? await provider.reconnect(s.sandboxId, { sessionId: s.id, ...(sandboxDir ? { sandboxDir } : {}) }) : undefined;
    let files: string[];
    try {
      const choice = { selective, ...(keep ? { keep } : {}) };
      files = (box && provider ? await exportFromSandbox(provider, box, s, output, choice) : await exportFromBranch(s, output, choice)).files;
    } finally {
      if (box && provider) await provider.destroy(box, { keep: true });
    }
    return { sessionId: s.id, output, source: box ? 'live-sandbox' : 'branch', files };
  });
}
