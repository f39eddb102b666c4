import type { Context } from '../../core/context.js';
import { downloadSession, type DownloadOutput, type DownloadRequest } from '../../core/ops/download.js';

export type { DownloadOutput };

/** Options of `parallel-cc sandbox download`. */
export interface DownloadFlags extends DownloadRequest {
  json?: boolean;
}

/** `parallel-cc sandbox download`: a session's changed (or all) files into a folder (`core/ops/download.ts`). */
export async function downloadCommand(flags: DownloadFlags, ctx: Context): Promise<DownloadOutput> {
  return downloadSession(flags, ctx);
}
