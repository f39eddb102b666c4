import type { Context } from '../../core/context.js';
import { crossConflicts, type ConflictsOutput } from '../../core/merge/conflicts.js';

/** Options of `parallel-cc conflicts`. */
export interface ConflictsFlags {
  group?: string;
  repo?: string;
  base?: string;
  json?: boolean;
}

/** `parallel-cc conflicts [--group <id>]` (core/merge/conflicts.ts). */
export function conflictsCommand(flags: ConflictsFlags, ctx: Context): Promise<ConflictsOutput> {
  return crossConflicts({ ...(flags.group !== undefined ? { group: flags.group } : {}), ...(flags.repo !== undefined ? { repo: flags.repo } : {}), ...(flags.base !== undefined ? { base: flags.base } : {}) }, ctx);
}

/** The human report of a conflict pre-check. */
export function conflictsLines(out: ConflictsOutput): string[] {
  if (out.branches.length === 0) return [`No unmerged session branches against ${out.base}.`];
  const lines = [`Against ${out.base}:`];
  for (const b of out.branches) lines.push(`  ${b.sessionId} ${b.branch}: ${b.cleanWithBase ? 'merges cleanly' : `CONFLICTS in ${b.conflictsWithBase.join(', ')}`} (${b.files.length} file(s))`);
  if (out.pairs.length) lines.push('Pairs:');
  for (const p of out.pairs) {
    const touch = p.sharedFiles.length === 0 ? 'no shared files' : `shared ${p.sharedFiles.join(', ')}${p.overlappingFiles.length ? `; overlapping hunks in ${p.overlappingFiles.join(', ')}` : '; hunks apart'}`;
    lines.push(`  ${p.a} × ${p.b}: ${p.clean ? 'merge cleanly' : `CONFLICT in ${p.conflicts.join(', ')}`} (${touch})`);
  }
  return lines;
}
