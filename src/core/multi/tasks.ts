import { AGENT_NAMES, type AgentName } from '../../agents/registry.js';
import { AppError } from '../../errors.js';

/** One task of a --multi run. */
export interface TaskSpec {
  /** Unique within the run; names the output folder `<output-dir>/<id>/`. */
  id: string;
  prompt: string;
  /** Branch from this ref instead of the run's base (or the dependency's result). */
  base?: string;
  /** Ids of tasks that must complete first; the task starts on the last one's result branch. */
  after: string[];
  /** The agent CLI of this task (`"agent": "codex"`); default: the run's (`--agent-cli`). */
  agent?: AgentName;
}

/** Largest prompt accepted per task (same limit as `--prompt`). */
export const MAX_TASK_PROMPT_BYTES = 1024 * 1024;

/** Task ids are folder names and registry values: short, plain, no path tricks. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const JSON_KEYS = new Set(['prompt', 'id', 'base', 'after', 'agent']);

/** A task as written, before ids are assigned. */
export interface RawTask {
  prompt: string;
  id?: string;
  base?: string;
  after?: string[];
  agent?: string;
  /** Where it came from, for error messages ("--task #2", "tasks.txt:7"). */
  source: string;
}

function checkPrompt(prompt: string, source: string): void {
  if (prompt.trim() === '') throw new AppError('usage', `${source}: the prompt is empty`);
  if (prompt.includes('\0')) throw new AppError('usage', `${source}: the prompt contains a NUL byte`);
  const bytes = Buffer.byteLength(prompt, 'utf8');
  if (bytes > MAX_TASK_PROMPT_BYTES) throw new AppError('usage', `${source}: the prompt is ${bytes} bytes; the limit is ${MAX_TASK_PROMPT_BYTES}`);
}

/** Parses one JSON task line: {prompt, id?, base?, after?: [ids]}; anything else is an error. */
function parseJsonLine(line: string, source: string): RawTask {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new AppError('usage', `${source}: invalid JSON task: ${(e as Error).message}`, {
      hint: 'A task line starting with { must be one JSON object, e.g. {"id": "api", "prompt": "Add the endpoint", "after": ["schema"]}.',
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AppError('usage', `${source}: a JSON task must be an object`);
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !JSON_KEYS.has(k));
  if (unknown.length) throw new AppError('usage', `${source}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`, { hint: 'A JSON task has prompt, and optionally id, base, after and agent.' });
  if (typeof o.prompt !== 'string') throw new AppError('usage', `${source}: "prompt" must be a string`);
  if (o.id !== undefined && typeof o.id !== 'string') throw new AppError('usage', `${source}: "id" must be a string`);
  if (o.base !== undefined && (typeof o.base !== 'string' || o.base.trim() === '')) throw new AppError('usage', `${source}: "base" must be a non-empty string`);
  if (o.agent !== undefined && !(typeof o.agent === 'string' && (AGENT_NAMES as readonly string[]).includes(o.agent)))
    throw new AppError('usage', `${source}: "agent" must be one of ${AGENT_NAMES.join(', ')}`);
  if (o.after !== undefined && !(Array.isArray(o.after) && o.after.every((a) => typeof a === 'string')))
    throw new AppError('usage', `${source}: "after" must be an array of task ids`);
  return {
    prompt: o.prompt,
    source,
    ...(o.id !== undefined ? { id: o.id } : {}),
    ...(o.base !== undefined ? { base: o.base } : {}),
    ...(o.after !== undefined ? { after: o.after } : {}),
    ...(typeof o.agent === 'string' ? { agent: o.agent } : {}),
  };
}

/**
 * Parses a --task-file: one task per line; blank lines and lines starting with `#` are skipped; a
 * line starting with `{` is a JSON task object, any other line is the prompt itself.
 */
export function parseTaskFile(text: string, name: string): RawTask[] {
  const tasks: RawTask[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const source = `${name}:${i + 1}`;
    tasks.push(trimmed.startsWith('{') ? parseJsonLine(trimmed, source) : { prompt: trimmed, source });
  });
  return tasks;
}

/**
 * Validates raw tasks and gives every task an id: its own, or `task-N` by position. Ids must be
 * unique and `after` must name existing tasks; cycles are checked separately ({@link findCycle}).
 */
export function buildTasks(raw: readonly RawTask[]): TaskSpec[] {
  if (raw.length === 0) throw new AppError('usage', 'no tasks given', { hint: 'Pass --task "<prompt>" (repeatable) or --task-file <file>.' });
  const explicit = new Set(raw.flatMap((r) => (r.id !== undefined ? [r.id] : [])));
  const tasks: TaskSpec[] = [];
  const seen = new Map<string, string>();
  let n = 0;
  for (const r of raw) {
    checkPrompt(r.prompt, r.source);
    let id = r.id;
    if (id === undefined) {
      // Generated ids skip over explicit ones, so `task-2` written in the file is never shadowed.
      do id = `task-${++n}`;
      while (explicit.has(id));
    }
    if (!TASK_ID_PATTERN.test(id)) throw new AppError('usage', `${r.source}: invalid task id "${id}"`, { hint: 'Use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit).' });
    const prev = seen.get(id);
    if (prev !== undefined) throw new AppError('usage', `${r.source}: task id "${id}" is already used by ${prev}`);
    seen.set(id, r.source);
    tasks.push({ id, prompt: r.prompt, after: [...new Set(r.after ?? [])], ...(r.base !== undefined ? { base: r.base } : {}), ...(r.agent !== undefined ? { agent: r.agent as AgentName } : {}) });
  }
  for (const [i, t] of tasks.entries()) {
    for (const dep of t.after) {
      if (!seen.has(dep)) throw new AppError('usage', `${raw[i]?.source ?? t.id}: task "${t.id}" runs after "${dep}", which is not a task`, { hint: `Known task ids: ${[...seen.keys()].join(', ')}.` });
    }
  }
  return tasks;
}

/**
 * Finds a dependency cycle, returned as the ids along it (first id repeated at the end), or
 * undefined when the tasks form a DAG.
 */
export function findCycle(tasks: readonly TaskSpec[]): string[] | undefined {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of byId.get(id)?.after ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const t of tasks) {
    const cycle = visit(t.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Rejects dependency cycles with a usage error naming the cycle. */
export function assertAcyclic(tasks: readonly TaskSpec[]): void {
  const cycle = findCycle(tasks);
  if (cycle) {
    throw new AppError('usage', `task dependencies form a cycle: ${cycle.join(' → ')}`, {
      hint: 'Remove one of the "after" entries along the cycle; nothing was started.',
    });
  }
}
