/**
 * Components on the host: front matter parsing and validation, the resolution order (path, repo,
 * cache, catalog) with what gets cached, names that could walk a path, claude's install plan
 * (files under the sandbox home, the main agent, the slash command, one MCP file, merged settings),
 * and spec 004's `--timeout 300`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeComponents } from '../../src/agents/claude/components.js';
import { parseTimeout, timeoutNote } from '../../src/cli/commands/run-input.js';
import { parseFrontMatter, validateComponent } from '../../src/core/components/frontmatter.js';
import { cachePath, componentRefs, resolveComponents, type ResolveOptions } from '../../src/core/components/resolve.js';
import type { Component } from '../../src/core/components/types.js';
import { makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const AGENT = '---\nname: helper\ndescription: "Helps.\\nA lot."\ntools: [Read, Bash]\n---\nYou help.\n';

describe('front matter', () => {
  it('reads plain, quoted (with escapes), list and block values', () => {
    const { data, body } = parseFrontMatter("---\nname: a\ndescription: \"two\\nlines\"\nnote: 'it''s'\ntools: [Read, 'Bash']\nlong: |\n  one\n  two\n---\nBody\n", 'x');
    expect(data).toEqual({ name: 'a', description: 'two\nlines', note: "it's", tools: ['Read', 'Bash'], long: 'one\ntwo' });
    expect(body).toBe('Body\n');
  });

  it.each([
    ['no opening line', 'name: a\n', /does not start with a `---`/],
    ['no closing line', '---\nname: a\n', /no closing `---`/],
    ['a line without a key', '---\nname a\n---\n', /line 2 is not `key: value`/],
    ['a key twice', '---\nname: a\nname: b\n---\n', /key "name" appears twice/],
    ['an unterminated quote', '---\ndescription: "abc\n---\n', /double-quoted value/],
  ])('%s is broken front matter', (_what, text, message) => {
    expect(() => parseFrontMatter(text, 'f.md')).toThrow(message);
  });

  it('an agent needs a name and a description; JSON kinds need their shape', () => {
    expect(validateComponent('agent', AGENT, 'a.md')).toMatchObject({ name: 'helper', description: 'Helps.\nA lot.' });
    expect(() => validateComponent('agent', '---\nname: x\n---\n', 'a.md')).toThrow(/not a valid agent: description: Required/);
    expect(() => validateComponent('agent', '---\nname: ../x\ndescription: d\n---\n', 'a.md')).toThrow(/not a valid agent: name/);
    expect(() => validateComponent('mcp', '{"mcpServers":{}}', 'm.json')).toThrow(/no server in mcpServers/);
    expect(() => validateComponent('hook', '{"hooks":{"PreToolUse":{}}}', 'h.json')).toThrow(/not a valid hook: hooks.PreToolUse/);
    expect(() => validateComponent('setting', '{oops', 's.json')).toThrow(/not valid JSON/);
  });
});

describe('resolution', () => {
  const setup = (): ResolveOptions & { fetched: string[] } => {
    const fetched: string[] = [];
    const files: Record<string, string> = { '/c/agents/dev/helper.md': AGENT, '/c/commands/testing/t.md': '---\ndescription: t\n---\nDo $ARGUMENTS\n' };
    const fake = ((url: string) => {
      const path = new URL(url).pathname;
      fetched.push(path);
      const body = files[path];
      return Promise.resolve(new Response(body ?? 'nope', { status: body ? 200 : 404 }));
    }) as unknown as typeof fetch;
    return { repoRoot: makeRepo(), cwd: tempDir(), home: tempDir(), catalogUrl: 'http://catalog.test/c', fetch: fake, fetched };
  };

  it('catalog on first use (then cached), the cache after; duplicates collapse; order is kept', async () => {
    const o = setup();
    const first = await resolveComponents(componentRefs({ agent: ['dev/helper,dev/helper'], command: ['testing/t'] }), o);
    expect(first.map((c) => [c.kind, c.name, c.source])).toEqual([
      ['agent', 'helper', 'catalog'],
      ['command', 't', 'catalog'],
    ]);
    expect(o.fetched).toEqual(['/c/agents/dev/helper.md', '/c/commands/testing/t.md']);
    expect(readFileSync(cachePath(o.home, 'agent', 'dev/helper'), 'utf8')).toBe(AGENT);
    const second = await resolveComponents([{ kind: 'agent', spec: 'dev/helper' }], o);
    expect(second[0]?.source).toBe('cache');
    expect(o.fetched).toHaveLength(2);
  });

  it('a local path and the repo’s own .claude/ come first; an unknown one is a clear error and nothing is cached', async () => {
    const o = setup();
    writeFiles(o.cwd, { 'mine.md': AGENT.replace('helper', 'mine') });
    writeFiles(o.repoRoot, { '.claude/agents/helper.md': AGENT });
    const [path, repo] = await resolveComponents([{ kind: 'agent', spec: './mine.md' }, { kind: 'agent', spec: 'dev/helper' }], o);
    expect(path).toMatchObject({ source: 'path', name: 'mine' });
    expect(repo).toMatchObject({ source: 'repo', inRepo: true });
    expect(o.fetched).toEqual([]);
    await expect(resolveComponents([{ kind: 'agent', spec: 'dev/none' }], o)).rejects.toThrow(/unknown agent "dev\/none"/);
    expect(existsSync(join(o.home, 'components', 'agents', 'dev', 'none.md'))).toBe(false);
  });

  it.each(['../etc/passwd', 'a/b/c', '.hidden', 'a/..', ''])('refuses the name %j', async (spec) => {
    const o = setup();
    await expect(spec === '' ? Promise.resolve().then(() => componentRefs({ agent: [','] })) : resolveComponents([{ kind: 'agent', spec }], o)).rejects.toThrow(/is not a component name|empty name|no such file/);
    expect(o.fetched).toEqual([]);
  });
});

describe("claude's install plan", () => {
  const c = (kind: Component['kind'], name: string, data: Record<string, unknown>, extra: Partial<Component> = {}): Component => ({ kind, spec: `x/${name}`, name, source: 'catalog', text: `text of ${name}`, data, ...extra });

  it('agents and commands under the sandbox home, the first agent main, the first command wraps the prompt; MCP in one file; settings and hooks merged', () => {
    const plan = claudeComponents(
      [
        c('agent', 'a1', { name: 'a1' }),
        c('agent', 'a2', { name: 'a2' }, { inRepo: true }),
        c('command', 'cmd', {}),
        c('mcp', 'm', { mcpServers: { s1: { command: 'x', description: 'dropped' } } }),
        c('mcp', 'm2', { mcpServers: { s2: { command: 'y' } } }),
        c('setting', 's', { description: 'dropped', env: { A: '1' }, hooks: { PreToolUse: [{ matcher: 'Bash' }] } }),
        c('hook', 'h', { hooks: { PreToolUse: [{ matcher: 'Write' }], Stop: [{}] } }),
      ],
      '/home/user',
      'do it\nnow',
    );
    expect(plan.args).toEqual(['--agent', 'a1', '--mcp-config', '/home/user/.claude/parallel-cc-mcp.json']);
    expect(plan.prompt).toBe('/cmd do it\nnow');
    expect(plan.files.map((f) => f.path)).toEqual(['/home/user/.claude/agents/a1.md', '/home/user/.claude/commands/cmd.md', '/home/user/.claude/parallel-cc-mcp.json', '/home/user/.claude/settings.json']);
    expect(JSON.parse(plan.files[2]?.content ?? '')).toEqual({ mcpServers: { s1: { command: 'x' }, s2: { command: 'y' } } });
    expect(JSON.parse(plan.files[3]?.content ?? '')).toEqual({ env: { A: '1' }, hooks: { PreToolUse: [{ matcher: 'Bash' }, { matcher: 'Write' }], Stop: [{}] } });
  });

  it('no components: nothing to write, the prompt unchanged', () => {
    expect(claudeComponents([], '/h', 'p')).toEqual({ files: [], args: [], prompt: 'p' });
  });
});

describe('--timeout', () => {
  it('bare numbers up to 60 are minutes, above 60 seconds (claude-code-templates’ --timeout 300); units always win', () => {
    expect(parseTimeout('30', 60)).toBe(30);
    expect(parseTimeout('60', 60)).toBe(60);
    expect(parseTimeout('300', 60)).toBe(5);
    expect(parseTimeout('3600', 60)).toBe(60);
    expect(parseTimeout('90s', 60)).toBe(1.5);
    expect(() => parseTimeout('3601', 60)).toThrow(/more than 60 minutes read as seconds/);
    expect(() => parseTimeout('90m', 60)).toThrow(/at most 60 minutes/);
    // Only whole numbers are seconds: 60.5 is neither a valid minute count nor spec 004's seconds.
    expect(() => parseTimeout('60.5', 60)).toThrow(/at most 60 minutes/);
    expect(timeoutNote('300')).toBe('--timeout 300 read as 300 seconds (5 min): bare numbers up to 60 are minutes, larger ones seconds; write 300s to say so');
    expect(timeoutNote('30')).toBeUndefined();
  });
});
