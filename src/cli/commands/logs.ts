import { appendFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Context } from '../../core/context.js';
import type { StreamEvent } from '../../core/events.js';
import { findSession, viewSession } from '../../core/ops/view.js';
import { AppError } from '../../errors.js';
import { isTerminal, type Session } from '../../store/sessions.js';
import { humanBytes } from '../../core/format.js';
import type { Renderer } from '../render.js';
import { followInSandbox } from '../../core/ops/follow.js';
import { providerFor } from '../../core/ops/provider-for.js';
import { checkOutputFile } from '../output-path.js';
import { withRegistry } from '../../core/registry.js';

/** Options of `parallel-cc sandbox logs`. */
export interface LogsFlags {
  sessionId?: string;
  tail?: string;
  follow?: boolean;
  save?: string;
  egress?: boolean;
  json?: boolean;
}

const POLL_MS = 150;

/** Reads whatever was appended to a file since `offset`; returns complete lines and the new offset. */
async function readNew(path: string, offset: number): Promise<{ lines: string[]; offset: number }> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return { lines: [], offset };
  try {
    const { size } = await fh.stat();
    if (size <= offset) return { lines: [], offset };
    const buf = Buffer.alloc(size - offset);
    await fh.read(buf, 0, buf.length, offset);
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) return { lines: [], offset };
    // Only whole lines: the writer appends one event per write, a half line is finished next time.
    return { lines: text.slice(0, end).split('\n').filter(Boolean), offset: offset + Buffer.byteLength(text.slice(0, end + 1)) };
  } finally {
    await fh.close();
  }
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

function egressLine(e: EgressEntry): string {
  const verdict = e.allowed ? 'allowed' : `DENIED${e.reason ? ` (${e.reason})` : ''}`;
  const bytes = e.allowed ? ` ↑${humanBytes(e.bytesUp ?? 0)} ↓${humanBytes(e.bytesDown ?? 0)}` : '';
  return `${e.ts ?? ''}  ${e.method ?? ''} ${e.host ?? '?'}:${e.port ?? '?'}  ${verdict}${bytes}`;
}

/**
 * `parallel-cc sandbox logs`: prints a session's event log (or its egress log) with the same renderer
 * as the live run; --follow keeps printing new events until the session ends — from any terminal,
 * while the run is live. Returns the exit code.
 */
export async function logsCommand(flags: LogsFlags, ctx: Context, renderer: Renderer): Promise<number> {
  const tail = flags.tail === undefined ? undefined : Number(flags.tail);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new AppError('usage', `--tail must be a whole number, got "${String(flags.tail)}"`);
  const save = flags.save ? await checkOutputFile('--save', resolve(ctx.cwd, flags.save)) : undefined;
  return withRegistry(ctx, async (sessions) => {
    const session = findSession(sessions, flags.sessionId);
    if (!session.sessionDir) throw new AppError('not_found', `session ${session.id} has no log folder`);
    const file = join(session.sessionDir, flags.egress ? 'egress.ndjson' : 'events.ndjson');
    if (save) writeFileSync(save, '', { mode: 0o600 });
    let lastAgentLine = 0;
    const print = (line: string): void => {
      if (save) appendFileSync(save, `${line}\n`);
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // a torn line from a crashed writer: skip it rather than fail the whole log
      }
      if (typeof event.agentLine === 'number') lastAgentLine = Math.max(lastAgentLine, event.agentLine);
      if (flags.egress) {
        // Through the renderer: terminal-safe (and exact with --json), like every other line.
        if (flags.json) renderer.jsonLine(line);
        else renderer.line(egressLine(event));
      } else renderer.event(event as StreamEvent);
    };
    // The CLI that ran the session is gone but its sandbox may live on (cloud providers): follow the
    // agent there, from the line after the last one the dead CLI logged.
    const followOrphan = async (current: Session, afterLine: number): Promise<number> => {
      const provider = await providerFor(current, ctx);
      if (provider?.capabilities.survivesCli) renderer.note(`session ${current.id}: its parallel-cc process is gone; reattaching to ${current.provider} sandbox ${current.sandboxId ?? '?'}`);
      const r = await followInSandbox(current, provider, {
        afterLine,
        signal: ctx.signal,
        now: ctx.now,
        onEvent: (e) => print(JSON.stringify(e)),
      });
      const finish = `bring its work back with \`parallel-cc sandbox reattach --session-id ${current.id}\` (or \`sandbox download\` / \`sandbox kill\`)`;
      if (r.kind === 'unsupported') renderer.note(`session ${current.id} is orphaned: its parallel-cc process is gone (run \`parallel-cc cleanup\`)`);
      else if (r.kind === 'gone') renderer.note(`session ${current.id} is orphaned and its sandbox ${r.sandboxId} is gone (run \`parallel-cc cleanup\`)`);
      else if (r.interrupted) return 130;
      else renderer.note(`session ${current.id}: the agent ended in sandbox ${r.sandboxId} (exit ${String(r.exitCode ?? 'unknown')}); ${finish}`);
      return 0;
    };
    let { lines, offset } = await readNew(file, 0);
    if (tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail);
    lines.forEach(print);
    if (!flags.follow) return 0;
    for (;;) {
      if (ctx.signal.aborted) return 130;
      const current = sessions.get(session.id);
      const done = !current || isTerminal(current.status) || viewSession(current, ctx.now()).liveness !== 'active';
      const next = await readNew(file, offset);
      next.lines.forEach(print);
      offset = next.offset;
      if (done && next.lines.length === 0) {
        if (current && !isTerminal(current.status)) return followOrphan(current, lastAgentLine);
        return 0;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });
}
