import type { AgentEvent } from '../core/events.js';

/** A JSON object. */
export type Json = Record<string, unknown>;
/** True for a plain JSON object. */
export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A finite number, else 0. */
export const num0 = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
/** A string, else ''. */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * One stdout line of a JSON-lines agent: the object, or the events it stands for when it is not one
 * (blank: none; anything else: one `raw` event, so nothing the agent printed is lost).
 */
export function jsonObjectLine(line: string): Json | AgentEvent[] {
  if (line.trim() === '') return [];
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return [{ type: 'raw', line }];
  }
  return isObj(msg) ? msg : [{ type: 'raw', line }];
}
