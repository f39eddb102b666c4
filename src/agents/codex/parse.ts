import type { AgentEvent, TokenUsage } from '../../core/events.js';
import { estimateCost, roundUsd } from '../../core/pricing.js';

import { isObj, jsonObjectLine, num0 as num, str, type Json } from '../json-lines.js';

/**
 * codex's turn usage (`turn.completed`): OpenAI counts cached input inside `input_tokens` and
 * reasoning inside `output_tokens`; ours keeps cache reads apart, as Anthropic's usage does.
 */
export function codexUsage(u: unknown): TokenUsage | undefined {
  if (!isObj(u)) return undefined;
  const cached = num(u.cached_input_tokens);
  return { inputTokens: Math.max(0, num(u.input_tokens) - cached), outputTokens: num(u.output_tokens), cacheReadTokens: cached, cacheCreationTokens: num(u.cache_write_input_tokens) };
}

/** What a tool item is called on our stream, and its input. */
function toolOf(item: Json): { name: string; input: unknown } | undefined {
  switch (item.type) {
    case 'command_execution':
      return { name: 'shell', input: { command: str(item.command) } };
    case 'file_change':
      return { name: 'file_change', input: { changes: Array.isArray(item.changes) ? item.changes : [] } };
    case 'mcp_tool_call':
      return { name: `mcp:${str(item.server)}.${str(item.tool)}`, input: item.arguments ?? {} };
    case 'web_search':
      return { name: 'web_search', input: { query: str(item.query) } };
    default:
      return undefined;
  }
}

/** The result of a finished tool item: its output and whether it failed. */
function resultOf(item: Json): { content: string; isError: boolean } {
  switch (item.type) {
    case 'command_execution':
      return { content: str(item.aggregated_output), isError: item.status === 'failed' || (typeof item.exit_code === 'number' && item.exit_code !== 0) };
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? item.changes.filter(isObj) : [];
      return { content: changes.map((c) => `${str(c.kind)} ${str(c.path)}`).join('\n'), isError: item.status === 'failed' };
    }
    case 'mcp_tool_call': {
      const error = isObj(item.error) ? str(item.error.message) : '';
      return { content: error || JSON.stringify(item.result ?? null), isError: item.status === 'failed' || error !== '' };
    }
    default:
      return { content: '', isError: item.status === 'failed' };
  }
}

/** `Reconnecting... 2/5 (reason)`: codex retrying its model request. */
const RETRY = /^Reconnecting\.\.\.\s*(?:(\d+)\/(\d+))?\s*\(?(.*?)\)?$/s;

/**
 * A fresh parser of `codex exec --json` lines (thread.started, turn.*, item.started/updated/completed,
 * error). Items become tool_use/tool_result (commands, file changes, MCP calls, web searches) or
 * text (agent messages); `turn.completed` is the result, priced from its usage for `model` (codex
 * reports no cost). A completed item that never started still gets its tool_use first.
 */
export function codexParser(model?: string): (line: string) => AgentEvent[] {
  const started = new Set<string>();
  let failed: string | undefined;
  return (line) => {
    const msg = jsonObjectLine(line);
    if (Array.isArray(msg)) return msg;
    switch (msg.type) {
      case 'thread.started':
        return [{ type: 'init', ...(typeof msg.thread_id === 'string' ? { agentSessionId: msg.thread_id } : {}), ...(model ? { model } : {}) }];
      case 'item.started':
      case 'item.completed': {
        const item = msg.item;
        if (!isObj(item)) return [];
        const id = str(item.id);
        if (item.type === 'agent_message') return msg.type === 'item.completed' && typeof item.text === 'string' ? [{ type: 'text', text: item.text }] : [];
        // A non-fatal notice of codex itself (e.g. unknown model metadata): diagnostics, not the model's text.
        if (item.type === 'error') return msg.type === 'item.completed' ? [{ type: 'stderr', text: str(item.message) }] : [];
        const tool = toolOf(item);
        if (!tool) return [];
        const out: AgentEvent[] = [];
        if (!started.has(id)) {
          started.add(id);
          out.push({ type: 'tool_use', id, name: tool.name, input: tool.input });
        }
        if (msg.type === 'item.completed') out.push({ type: 'tool_result', toolUseId: id, ...resultOf(item) });
        return out;
      }
      case 'error': {
        const message = str(msg.message);
        const retry = RETRY.exec(message);
        if (retry) {
          const status = /\b(\d{3})\b/.exec(retry[3] ?? '')?.[1];
          return [{ type: 'api_retry', attempt: Number(retry[1] ?? 0), ...(retry[2] ? { maxRetries: Number(retry[2]) } : {}), status: status && /status/i.test(message) ? Number(status) : null, error: retry[3] ?? message }];
        }
        failed = message;
        return [{ type: 'stderr', text: message }];
      }
      case 'turn.failed': {
        const error = isObj(msg.error) ? str(msg.error.message) : failed ?? 'the turn failed';
        return [{ type: 'result', isError: true, subtype: 'turn_failed', text: error }];
      }
      case 'turn.completed': {
        const usage = codexUsage(msg.usage);
        return [{ type: 'result', isError: false, subtype: 'success', ...(usage ? { usage, costUsd: roundUsd(estimateCost(model, usage)) } : {}) }];
      }
      default:
        return [];
    }
  };
}
