import { z } from 'zod';
import { AppError } from '../../errors.js';
import type { ComponentKind } from './types.js';

/**
 * The YAML front matter of an agent or command file, as claude-code-templates writes it: flat
 * `key: value` lines whose values are plain, single- or double-quoted (with escapes), `[a, b]`
 * lists, or `|`/`>` blocks of indented lines. Anything else is broken front matter: a component
 * that claude would read differently from us must not run.
 */
export function parseFrontMatter(text: string, where: string): { data: Record<string, unknown>; body: string } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') throw broken(where, 'it does not start with a `---` front-matter line');
  const end = lines.indexOf('---', 1);
  if (end < 0) throw broken(where, 'its front matter has no closing `---` line');
  const data: Record<string, unknown> = {};
  for (let i = 1; i < end; i++) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^([A-Za-z][\w-]*):(?:\s+(.*))?$/.exec(line);
    if (!m) throw broken(where, `line ${i + 1} is not \`key: value\`: ${JSON.stringify(line.slice(0, 80))}`);
    const key = m[1] as string;
    const raw = (m[2] ?? '').trim();
    if (key in data) throw broken(where, `key "${key}" appears twice`);
    if (raw === '|' || raw === '>' || raw === '|-' || raw === '>-') {
      const block: string[] = [];
      while (i + 1 < end && /^(\s+|$)/.test(lines[i + 1] as string)) block.push((lines[++i] as string).trim());
      data[key] = raw.startsWith('|') ? block.join('\n').trim() : block.join(' ').trim();
    } else data[key] = scalar(raw, where, i + 1);
  }
  return { data, body: lines.slice(end + 1).join('\n') };
}

function scalar(raw: string, where: string, line: number): unknown {
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw broken(where, `line ${line} has a double-quoted value that does not end where it should`);
    }
  }
  if (raw.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(raw)) throw broken(where, `line ${line} has a single-quoted value that does not end where it should`);
    return raw.slice(1, -1).replace(/''/g, "'");
  }
  if (raw.startsWith('[')) {
    if (!raw.endsWith(']')) throw broken(where, `line ${line} has a list without its closing \`]\``);
    return raw
      .slice(1, -1)
      .split(',')
      .map((s) => s.trim().replace(/^["']|["']$/g, ''))
      .filter(Boolean);
  }
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return raw;
}

const broken = (where: string, why: string): AppError =>
  new AppError('usage', `component ${where} has broken front matter: ${why}`, { hint: 'Fix the file (front matter is `---`, then `key: value` lines, then `---`), or pick another component.' });

const list = z.union([z.string(), z.array(z.string())]);
/** Agent front matter: claude needs a name and a description; tools and model are optional. */
const AgentMeta = z.object({ name: z.string().regex(/^[\w.-]+$/, 'letters, digits, dot, dash, underscore'), description: z.string().min(1), tools: list.optional(), model: z.string().optional() }).passthrough();
/** Command front matter: every field optional. */
const CommandMeta = z.object({ description: z.string().optional(), 'allowed-tools': list.optional(), 'argument-hint': z.union([z.string(), z.array(z.string())]).optional(), model: z.string().optional() }).passthrough();
const McpJson = z.object({ mcpServers: z.record(z.object({}).passthrough()).refine((o) => Object.keys(o).length > 0, 'no server in mcpServers') }).passthrough();
const HookJson = z.object({ hooks: z.record(z.array(z.unknown())) }).passthrough();
const SettingJson = z.object({}).passthrough();

/** Parses and validates one component file; a bad one is a usage error naming the file and the key. */
export function validateComponent(kind: ComponentKind, text: string, where: string): Record<string, unknown> {
  let data: unknown;
  if (kind === 'agent' || kind === 'command') data = parseFrontMatter(text, where).data;
  else {
    try {
      data = JSON.parse(text) as unknown;
    } catch (e) {
      throw new AppError('usage', `component ${where} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const schema = { agent: AgentMeta, command: CommandMeta, mcp: McpJson, hook: HookJson, setting: SettingJson }[kind];
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('usage', `component ${where} is not a valid ${kind}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`, {
      hint: kind === 'agent' ? 'An agent file needs front matter with `name:` and `description:`.' : 'Fix the file, or pick another component.',
    });
  }
  return parsed.data;
}
