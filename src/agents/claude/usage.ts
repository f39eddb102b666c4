import type { ResponseUsage } from '../agent.js';

export type { ResponseUsage } from '../agent.js';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Extracts the token usage of a model response from one line of `claude --output-format stream-json`.
 * Claude prints the final cost only in its closing `result` line; the `assistant` lines carry each
 * response's usage as it arrives, which is what a running budget check needs. Other lines: undefined.
 */
export function assistantUsage(line: string): ResponseUsage | undefined {
  // Cheap pre-filter: most lines are not assistant messages.
  if (!line.includes('"assistant"') || !line.includes('"usage"')) return undefined;
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof msg !== 'object' || msg === null) return undefined;
  const m = msg as { type?: unknown; message?: { id?: unknown; model?: unknown; usage?: Record<string, unknown> } };
  if (m.type !== 'assistant' || typeof m.message?.id !== 'string' || typeof m.message.usage !== 'object' || m.message.usage === null) return undefined;
  // Claude's own synthetic messages (errors, notices) cost nothing.
  if (m.message.model === '<synthetic>') return undefined;
  const u = m.message.usage;
  return {
    messageId: m.message.id,
    ...(typeof m.message.model === 'string' ? { model: m.message.model } : {}),
    usage: {
      inputTokens: num(u.input_tokens),
      outputTokens: num(u.output_tokens),
      cacheReadTokens: num(u.cache_read_input_tokens),
      cacheCreationTokens: num(u.cache_creation_input_tokens),
    },
  };
}
