import { escapeControls } from '../sanitize.js';

/** One line of a session's live event tail, already made safe for a terminal (controls escaped). */
export interface TailLine {
  ts: string | null;
  type: string;
  text: string;
}

/**
 * What the dashboard knows of a session from its event log (`events.ndjson`) and egress log
 * (`egress.ndjson`), folded line by line as they are appended. Every string in it came from the
 * sandbox: it is stored with control characters escaped and cut to a bounded length.
 */
export interface SessionDigest {
  model: string | null;
  /** The last tool call, e.g. `Edit src/auth.ts`, `Bash npm test`. */
  step: string | null;
  /** The last lifecycle phase announced (`running`, `collecting`, …). */
  phase: string | null;
  inputTokens: number;
  outputTokens: number;
  /** The agent's own cost report (its `result` event), when it gave one. */
  costUsd: number | null;
  sandboxUsd: number | null;
  egressDenied: number;
  egressAllowed: number;
  /** Distinct paths the agent's edit tools touched (live; the branch's diff replaces it at the end). */
  touched: Set<string>;
  /** When the last event was written (ms since epoch), or null when none yet. */
  lastEventAt: number | null;
  /** The last events, newest last (bounded). */
  tail: TailLine[];
  /** The last egress records, newest last (bounded). */
  egress: TailLine[];
}

const TAIL = 200;
const MAX_TEXT = 300;
const EDIT_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit']);

/** An empty digest. */
export function emptyDigest(): SessionDigest {
  return { model: null, step: null, phase: null, inputTokens: 0, outputTokens: 0, costUsd: null, sandboxUsd: null, egressDenied: 0, egressAllowed: 0, touched: new Set(), lastEventAt: null, tail: [], egress: [] };
}

/** Text from the sandbox, safe for a terminal and bounded: one line, controls escaped, cut. */
export function safeText(raw: unknown, max = MAX_TEXT): string {
  const text = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw === undefined || raw === null ? '' : JSON.stringify(raw);
  const s = escapeControls(text.replace(/\s+/g, ' ').trim());
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The path as the user knows it: relative to the agent's working folder when below it. */
function relPath(p: string): string {
  return p.replace(/^\/(?:workspace|home\/[^/]+\/workspace|tmp\/[^/]+)\//, '');
}

/** "Edit src/auth.ts", "Bash npm test": a tool call in a few words. */
export function stepLabel(name: string, input: unknown): string {
  const i = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const path = str(i.file_path) ?? str(i.notebook_path) ?? str(i.path);
  const what = path !== undefined ? relPath(path) : (str(i.command) ?? str(i.pattern) ?? str(i.url) ?? str(i.query) ?? str(i.description) ?? '');
  return safeText(`${name} ${what}`, 120);
}

function push(list: TailLine[], line: TailLine): void {
  list.push(line);
  if (list.length > TAIL) list.splice(0, list.length - TAIL);
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Folds one line of `events.ndjson` into the digest (a torn or foreign line is ignored). */
export function foldEvent(d: SessionDigest, line: string, fallbackNow: number): void {
  let e: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v !== 'object' || v === null) return;
    e = v as Record<string, unknown>;
  } catch {
    return;
  }
  const ts = str(e.ts) ?? null;
  const at = ts !== null && Number.isFinite(Date.parse(ts)) ? Date.parse(ts) : fallbackNow;
  d.lastEventAt = Math.max(d.lastEventAt ?? 0, at);
  const type = safeText(e.type, 20);
  let text = '';
  switch (e.type) {
    case 'init':
      if (str(e.model)) d.model = safeText(e.model, 60);
      text = `model ${d.model ?? '?'}`;
      break;
    case 'tool_use': {
      const name = str(e.name) ?? '?';
      d.step = stepLabel(name, e.input);
      const input = typeof e.input === 'object' && e.input !== null ? (e.input as Record<string, unknown>) : {};
      const p = str(input.file_path) ?? str(input.notebook_path);
      if (EDIT_TOOLS.has(name) && p !== undefined && d.touched.size < 10_000) d.touched.add(safeText(relPath(p), 200));
      text = d.step;
      break;
    }
    case 'result': {
      const usage = (e.usage ?? {}) as Record<string, unknown>;
      d.inputTokens = Math.max(d.inputTokens, num(usage.inputTokens));
      d.outputTokens = Math.max(d.outputTokens, num(usage.outputTokens));
      if (typeof e.costUsd === 'number') d.costUsd = e.costUsd;
      text = `result${e.isError === true ? ' (error)' : ''}`;
      break;
    }
    case 'cost':
      if (typeof e.sandboxUsd === 'number') d.sandboxUsd = e.sandboxUsd;
      text = `sandbox $${num(e.sandboxUsd).toFixed(4)}`;
      break;
    case 'phase':
      d.phase = safeText(e.phase, 20);
      text = safeText(e.message);
      break;
    case 'egress':
      // Counted from egress.ndjson (the proxy's own log): here only shown.
      text = `${e.allowed === true ? 'allowed' : 'DENIED'} ${safeText(e.host, 100)}:${num(e.port)}`;
      break;
    case 'summary': {
      const s = (e.summary ?? {}) as Record<string, unknown>;
      const u = (s.usage ?? {}) as Record<string, unknown>;
      d.inputTokens = Math.max(d.inputTokens, num(u.inputTokens));
      d.outputTokens = Math.max(d.outputTokens, num(u.outputTokens));
      if (typeof s.costUsd === 'number') d.costUsd = s.costUsd;
      if (typeof s.sandboxCostUsd === 'number') d.sandboxUsd = s.sandboxCostUsd;
      text = `summary: ${safeText(s.status, 20)}`;
      break;
    }
    case 'text':
    case 'stderr':
    case 'warning':
    case 'alert':
    case 'hook':
      text = safeText(e.text ?? e.message);
      break;
    case 'tool_result':
      text = `${e.isError === true ? 'error: ' : ''}${safeText(e.content, 160)}`;
      break;
    case 'debug':
      return; // diagnostics, not activity
    default:
      text = safeText(e.message ?? e.line ?? '');
  }
  push(d.tail, { ts, type, text });
}

/** Marks a line the tail skipped (over its length limit) in the event or egress list: shown, never silent. */
export function foldSkipped(d: SessionDigest, log: 'events' | 'egress', limitBytes: number): void {
  push(log === 'events' ? d.tail : d.egress, { ts: null, type: 'skipped', text: `a line over ${limitBytes / 2 ** 20} MiB was skipped (not read)` });
}

/** Folds one line of `egress.ndjson` (core/net/egress-proxy.ts EgressRecord) into the digest. */
export function foldEgress(d: SessionDigest, line: string): void {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) return;
  } catch {
    return;
  }
  if (r.allowed === true) d.egressAllowed += 1;
  else d.egressDenied += 1;
  push(d.egress, { ts: str(r.ts) ?? null, type: r.allowed === true ? 'allowed' : 'denied', text: `${safeText(r.method, 10)} ${safeText(r.host, 100)}:${num(r.port)}${r.reason ? ` (${safeText(r.reason, 100)})` : ''}` });
}
