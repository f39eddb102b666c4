import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { findSession, viewSession } from './view.js';
import { AppError } from '../../errors.js';
import { isTerminal, type Session } from '../../store/sessions.js';
import { followInSandbox } from './follow.js';
import { providerFor } from './provider-for.js';
import { withRegistry } from '../registry.js';

/** Which log `parallel-cc sandbox logs` reads, and how. */
export interface LogsRequest {
  sessionId?: string;
  /** Only the last n lines already written (0: none). */
  tail?: number;
  follow?: boolean;
  egress?: boolean;
  /** The webhook delivery log instead (`webhooks.ndjson`). */
  webhooks?: boolean;
}

/** Where the logs use case delivers what it reads. */
export interface LogsSink {
  /** Called once the session and its log folder are found, before the first line. */
  start(): void;
  /** One log line as written, and the event it holds (undefined for a torn line). */
  line(raw: string, event: Record<string, unknown> | undefined): void;
  /** A diagnostic about the session (orphaned, reattaching, agent ended…). */
  note(text: string): void;
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

/**
 * The logs use case: a session's event log (or its egress log) line by line into `sink`; with
 * `follow` new lines keep coming until the session ends — from any terminal, while the run is live —
 * and an orphaned cloud session's agent is followed in its sandbox. Says whether it was interrupted.
 */
export async function sessionLogs(flags: LogsRequest, ctx: Context, sink: LogsSink): Promise<'done' | 'interrupted'> {
  const tail = flags.tail;
  return withRegistry(ctx, async (sessions) => {
    const session = findSession(sessions, flags.sessionId);
    if (!session.sessionDir) throw new AppError('not_found', `session ${session.id} has no log folder`);
    const file = join(session.sessionDir, flags.webhooks ? 'webhooks.ndjson' : flags.egress ? 'egress.ndjson' : 'events.ndjson');
    sink.start();
    let lastAgentLine = 0;
    const print = (line: string): void => {
      let event: Record<string, unknown> | undefined;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        event = undefined; // a torn line from a crashed writer: the sink skips it rather than fail the whole log
      }
      if (typeof event?.agentLine === 'number') lastAgentLine = Math.max(lastAgentLine, event.agentLine);
      sink.line(line, event);
    };
    // The CLI that ran the session is gone but its sandbox may live on (cloud providers): follow the
    // agent there, from the line after the last one the dead CLI logged.
    const followOrphan = async (current: Session, afterLine: number): Promise<'done' | 'interrupted'> => {
      const provider = await providerFor(current, ctx);
      if (provider?.capabilities.survivesCli) sink.note(`session ${current.id}: its parallel-cc process is gone; reattaching to ${current.provider} sandbox ${current.sandboxId ?? '?'}`);
      const r = await followInSandbox(current, provider, {
        afterLine,
        signal: ctx.signal,
        now: ctx.now,
        onEvent: (e) => print(JSON.stringify(e)),
      });
      const finish = `bring its work back with \`parallel-cc sandbox reattach --session-id ${current.id}\` (or \`sandbox download\` / \`sandbox kill\`)`;
      if (r.kind === 'unsupported') sink.note(`session ${current.id} is orphaned: its parallel-cc process is gone (run \`parallel-cc cleanup\`)`);
      else if (r.kind === 'gone') sink.note(`session ${current.id} is orphaned and its sandbox ${r.sandboxId} is gone (run \`parallel-cc cleanup\`)`);
      else if (r.interrupted) return 'interrupted';
      else sink.note(`session ${current.id}: the agent ended in sandbox ${r.sandboxId} (exit ${String(r.exitCode ?? 'unknown')}); ${finish}`);
      return 'done';
    };
    let { lines, offset } = await readNew(file, 0);
    if (tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail);
    lines.forEach(print);
    if (!flags.follow) return 'done';
    for (;;) {
      if (ctx.signal.aborted) return 'interrupted';
      const current = sessions.get(session.id);
      const done = !current || isTerminal(current.status) || viewSession(current, ctx.now()).liveness !== 'active';
      const next = await readNew(file, offset);
      next.lines.forEach(print);
      offset = next.offset;
      if (done && next.lines.length === 0) {
        if (current && !isTerminal(current.status)) return followOrphan(current, lastAgentLine);
        return 'done';
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });
}

/** The last `tail` events of a session's output log, parsed (MCP `sandbox_logs`; a torn line is an error). */
export async function lastEvents(ctx: Context, sessionId: string, tail: number): Promise<unknown[]> {
  return withRegistry(ctx, (sessions) => {
    const session = findSession(sessions, sessionId);
    const text = session.outputLogPath ? readFileSync(session.outputLogPath, 'utf8') : '';
    return text.split('\n').filter(Boolean).slice(-tail).map((l) => JSON.parse(l) as unknown);
  });
}
