import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { AppError } from '../../errors.js';
import { BUILTIN_TEMPLATES } from './builtin.js';
import { SandboxConfigSchema, TemplateSchema, type Template } from './schema.js';

/** A template and where it came from (repo overrides user overrides built-in, by name). */
export interface TemplateSource {
  name: string;
  source: 'builtin' | 'user' | 'repo' | 'file' | 'sandbox-config';
  path?: string;
  template: Template;
}

/** Where templates live. */
export interface TemplateDirs {
  /** The parallel-cc home: `<home>/templates/<name>.json`. */
  home: string;
  /** `<repo>/.parallel-cc/templates/<name>.json`. */
  repoRoot?: string;
  cwd: string;
}

function issueText(e: z.ZodError): string {
  const i = e.issues[0];
  return `${i?.path.join('.') || '(top level)'}: ${i?.message ?? 'invalid'}`;
}

/** Reads and validates one template file; a bad one names the file and the key. */
export function readTemplateFile(path: string, schema: 'template' | 'sandbox-config' = 'template'): Template {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AppError('usage', `template ${path} is not readable JSON: ${(e as Error).message}`, { hint: 'Fix the file, or pick another template (`parallel-cc templates list`).' });
  }
  const parsed = schema === 'template' ? TemplateSchema.safeParse(data) : SandboxConfigSchema.safeParse(data);
  if (!parsed.success) throw new AppError('usage', `${schema === 'template' ? 'template' : '--sandbox-config'} ${path}: ${issueText(parsed.error)}`, { hint: 'Fix that key (`parallel-cc templates show python` prints a valid template).' });
  return parsed.data;
}

const dirsOf = (d: TemplateDirs): Array<{ source: 'user' | 'repo'; dir: string }> => [
  { source: 'user', dir: join(d.home, 'templates') },
  ...(d.repoRoot ? [{ source: 'repo' as const, dir: join(d.repoRoot, '.parallel-cc', 'templates') }] : []),
];

/** Every template by name: built-in, then user, then repo (later ones win). */
export function listTemplates(d: TemplateDirs): TemplateSource[] {
  const out = new Map<string, TemplateSource>(Object.entries(BUILTIN_TEMPLATES).map(([name, template]) => [name, { name, source: 'builtin', template }]));
  for (const { source, dir } of dirsOf(d)) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      const path = join(dir, f);
      out.set(f.slice(0, -5), { name: f.slice(0, -5), source, path, template: readTemplateFile(path) });
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** `--template <name|file>`: a `.json` path or a name (repo, user, built-in). */
export function loadTemplate(spec: string, d: TemplateDirs): TemplateSource {
  if (spec.endsWith('.json') || spec.includes('/')) {
    const path = resolve(d.cwd, spec);
    return { name: spec, source: 'file', path, template: readTemplateFile(path) };
  }
  const found = listTemplates(d).find((t) => t.name === spec);
  if (!found) throw new AppError('usage', `unknown template "${spec}"`, { hint: `Use one of: ${listTemplates(d).map((t) => t.name).join(', ')} (or a .json file).` });
  return found;
}
