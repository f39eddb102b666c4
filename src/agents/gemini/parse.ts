import type { AgentEvent, TokenUsage } from '../../core/events.js';
import { estimateCost, roundUsd } from '../../core/pricing.js';

import { isObj, jsonObjectLine, num0 as num, str, type Json } from '../json-lines.js';

/** gemini's token stats (`result.stats`, or one model's entry): `input_tokens` includes the `cached` ones. */
export function geminiUsage(stats: unknown): TokenUsage | undefined {
  if (!isObj(stats)) return undefined;
  const cached = num(stats.cached);
  return { inputTokens: Math.max(0, num(stats.input_tokens) - cached), outputTokens: num(stats.output_tokens), cacheReadTokens: cached, cacheCreationTokens: 0 };
}

/** The estimated cost of a run: each model's own usage at its own price (gemini reports no cost). */
function costOf(stats: Json, fallbackModel: string | undefined): number {
  const models = isObj(stats.models) ? Object.entries(stats.models) : [];
  if (models.length === 0) {
    const u = geminiUsage(stats);
    return u ? estimateCost(fallbackModel, u) : 0;
  }
  return models.reduce((sum, [model, s]) => sum + estimateCost(model, geminiUsage(s) ?? { inputTokens: 0, outputTokens: 0 }), 0);
}

/**
 * A fresh parser of `gemini --output-format stream-json` lines (init, message, tool_use,
 * tool_result, error, result). The assistant's text arrives in deltas; they are joined into one
 * text event, emitted before the next other event (or the result).
 */
export function geminiParser(model?: string): (line: string) => AgentEvent[] {
  let text = '';
  let initModel: string | undefined = model;
  const flush = (): AgentEvent[] => {
    const out: AgentEvent[] = text ? [{ type: 'text', text }] : [];
    text = '';
    return out;
  };
  return (line) => {
    const msg = jsonObjectLine(line);
    if (Array.isArray(msg)) return msg.length ? [...flush(), ...msg] : msg;
    switch (msg.type) {
      case 'init':
        if (typeof msg.model === 'string' && msg.model !== 'auto') initModel = msg.model;
        return [{ type: 'init', ...(initModel ? { model: initModel } : {}), ...(typeof msg.session_id === 'string' ? { agentSessionId: msg.session_id } : {}) }];
      case 'message':
        if (msg.role !== 'assistant') return [];
        text += str(msg.content);
        // A whole message (not a delta) stands alone.
        return msg.delta === true ? [] : flush();
      case 'tool_use':
        return [...flush(), { type: 'tool_use', id: str(msg.tool_id), name: str(msg.tool_name), input: msg.parameters ?? {} }];
      case 'tool_result': {
        const error = isObj(msg.error) ? str(msg.error.message) : '';
        return [...flush(), { type: 'tool_result', toolUseId: str(msg.tool_id), content: str(msg.output) || error, isError: msg.status === 'error' }];
      }
      case 'error':
        return [...flush(), { type: 'stderr', text: `${str(msg.severity) || 'error'}: ${str(msg.message)}` }];
      case 'result': {
        const stats = isObj(msg.stats) ? msg.stats : {};
        const usage = geminiUsage(stats);
        const duration = num(stats.duration_ms);
        const error = isObj(msg.error) ? str(msg.error.message) : '';
        return [
          ...flush(),
          {
            type: 'result',
            isError: msg.status !== 'success',
            subtype: str(msg.status) || 'unknown',
            ...(error ? { text: error } : {}),
            ...(duration ? { durationMs: duration } : {}),
            ...(usage ? { usage, costUsd: roundUsd(costOf(stats, initModel)) } : {}),
          },
        ];
      }
      default:
        return [];
    }
  };
}
