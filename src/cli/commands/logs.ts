import { appendFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../../core/context.js';
import type { StreamEvent } from '../../core/events.js';
import { humanBytes } from '../../core/format.js';
import { sessionLogs } from '../../core/ops/logs.js';
import { AppError } from '../../errors.js';
import type { Renderer } from '../render.js';
import { checkOutputFile } from '../output-path.js';

/** Options of `parallel-cc sandbox logs`. */
export interface LogsFlags {
  sessionId?: string;
  tail?: string;
  follow?: boolean;
  save?: string;
  egress?: boolean;
  webhooks?: boolean;
  json?: boolean;
}

interface EgressEntry {
  ts?: string;
  method?: string;
  host?: string;
  port?: number;
  allowed?: boolean;
  reason?: string;
  bytesUp?: number;
  bytesDown?: number;
}

/** One delivery attempt: `12:00:01 completed → https://hooks.example/x attempt 1: delivered (200, 12 ms)`. */
function webhookLine(e: Record<string, unknown>): string {
  const t = typeof e.ts === 'string' ? e.ts.slice(11, 19) : '';
  if (e.event === 'drain') return `${t} ${typeof e.detail === 'string' ? e.detail : ''}`;
  const s = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  const status = e.status !== undefined ? `${s(e.status)}, ` : '';
  return `${t} ${s(e.event)} → ${s(e.url)} attempt ${s(e.attempt)}: ${s(e.outcome)} (${status}${e.error ? `${s(e.error)}, ` : ''}${s(e.durationMs)} ms)`;
}

function egressLine(e: EgressEntry): string {
  const verdict = e.allowed ? 'allowed' : `DENIED${e.reason ? ` (${e.reason})` : ''}`;
  const bytes = e.allowed ? ` ↑${humanBytes(e.bytesUp ?? 0)} ↓${humanBytes(e.bytesDown ?? 0)}` : '';
  return `${e.ts ?? ''}  ${e.method ?? ''} ${e.host ?? '?'}:${e.port ?? '?'}  ${verdict}${bytes}`;
}

/**
 * `parallel-cc sandbox logs`: prints a session's event log (or its egress log, `core/ops/logs.ts`)
 * with the same renderer as the live run, copying every line to --save. Returns the exit code.
 */
export async function logsCommand(flags: LogsFlags, ctx: Context, renderer: Renderer): Promise<number> {
  const tail = flags.tail === undefined ? undefined : Number(flags.tail);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new AppError('usage', `--tail must be a whole number, got "${String(flags.tail)}"`);
  const save = flags.save ? await checkOutputFile('--save', resolve(ctx.cwd, flags.save)) : undefined;
  const request = { ...(flags.sessionId !== undefined ? { sessionId: flags.sessionId } : {}), ...(tail !== undefined ? { tail } : {}), ...(flags.follow ? { follow: true } : {}), ...(flags.egress ? { egress: true } : {}), ...(flags.webhooks ? { webhooks: true } : {}) };
  const outcome = await sessionLogs(request, ctx, {
    start: () => {
      if (save) writeFileSync(save, '', { mode: 0o600 });
    },
    line: (line, event) => {
      if (save) appendFileSync(save, `${line}\n`);
      if (!event) return; // a torn line: skipped, like the live run would never have printed it
      if (flags.webhooks) {
        if (flags.json) renderer.jsonLine(line);
        else renderer.line(webhookLine(event));
      } else if (flags.egress) {
        // Through the renderer: terminal-safe (and exact with --json), like every other line.
        if (flags.json) renderer.jsonLine(line);
        else renderer.line(egressLine(event));
      } else renderer.event(event as StreamEvent);
    },
    note: (text) => renderer.note(text),
  });
  return outcome === 'interrupted' ? 130 : 0;
}
