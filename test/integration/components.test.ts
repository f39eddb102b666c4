/**
 * Spec 004's one-liners (`--sandbox e2b --agent <category/name> --command <category/name>`) with a
 * local claude-code-templates-style catalog over HTTP: the real claude binary gets the agent as its
 * main agent (the model server sees its system prompt) and runs the command (the model server sees
 * its text with the prompt as arguments); nothing of them lands on the branch; the row records them;
 * bad components and an unreachable catalog are exit 2 with nothing created; the cache serves a
 * second run with the catalog offline. MCP, settings and hook components reach claude in the sandbox.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fixtures/model-server/server.js';
import { startCatalog, type CatalogServer } from '../fixtures/components/server.js';
import { parseNdjson, runCli, summaryOf } from '../helpers/cli.js';
import { bash, useE2B } from '../helpers/e2b.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

const e2b = useE2B();
let catalog: CatalogServer | undefined;
afterEach(async () => {
  await catalog?.close();
  catalog = undefined;
});

const systemText = (r: RecordedRequest): string => JSON.stringify((r.body as { system?: unknown } | undefined)?.system ?? '');
const messagesText = (r: RecordedRequest): string => JSON.stringify(r.body?.messages ?? []);
const COMMIT = bash("mkdir -p src && printf 'test(\"button\")\\n' > src/Button.test.jsx && git add -A && git commit -qm 'tests: Button'");

async function rowsOf(home: string): Promise<Array<Record<string, unknown>>> {
  const r = await runCli(['status', '--all', '--json'], { env: e2b.env(home) });
  return (JSON.parse(r.stdout) as { repos: Array<{ sessions: Array<Record<string, unknown>> }> }).repos.flatMap((g) => g.sessions);
}

describe('components (--agent, --command, --mcp, --setting, --hook)', () => {
  it('one-liner 1 on native: the agent is the main agent, the command wraps the prompt, nothing of them lands; the cache serves a second run offline', async () => {
    const server = await e2b.serve({ steps: [COMMIT, { text: 'done' }] });
    catalog = await startCatalog();
    const home = tempDir();
    const env = e2b.env(home, { PARALLEL_CC_COMPONENTS_URL: catalog.url });
    const repo = makeRepo({ 'README.md': '# app\n' });
    const args = ['sandbox', 'run', '--repo', repo, '--sandbox', 'native', '--agent', 'development/frontend-developer', '--command', 'testing/generate-tests', '--prompt', 'the Button component', '--json'];
    const r = await runCli(args, { env });
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    const main = server.requests.filter((q) => q.main);
    expect(main.length).toBeGreaterThan(0);
    expect(systemText(main[0] as RecordedRequest)).toContain('PCC-FRONTEND-AGENT');
    expect(messagesText(main[0] as RecordedRequest)).toContain('PCC-GENERATE-TESTS-COMMAND');
    expect(messagesText(main[0] as RecordedRequest)).toContain('Generate tests for: the Button component');
    const branch = String(s.branch);
    expect(git(repo, 'show', `${branch}:src/Button.test.jsx`)).toBe('test("button")');
    expect(git(repo, 'ls-tree', '-r', '--name-only', branch).split('\n').filter((p) => p.startsWith('.claude'))).toEqual([]);
    expect(existsSync(join(repo, '.claude'))).toBe(false);
    expect(catalog.requests).toEqual(['/agents/development/frontend-developer.md', '/commands/testing/generate-tests.md']);
    const row = (await rowsOf(home)).find((x) => x.id === s.sessionId);
    expect(JSON.parse(String(row?.components))).toEqual(['agent:development/frontend-developer (catalog)', 'command:testing/generate-tests (catalog)']);
    const human = await runCli(['status', '--all'], { env });
    expect(human.stdout).toContain('components agent:development/frontend-developer (catalog), command:testing/generate-tests (catalog)');
    // Offline: the catalog is gone, the cache answers.
    await catalog.close();
    catalog = undefined;
    const again = await runCli(args.map((a) => (a === repo ? makeRepo({ 'README.md': '# app\n' }) : a)), { env });
    expect(again.code, again.stderr).toBe(0);
    const row2 = (await rowsOf(home)).find((x) => x.id === summaryOf(again.stdout).sessionId);
    expect(JSON.parse(String(row2?.components))).toEqual(['agent:development/frontend-developer (cache)', 'command:testing/generate-tests (cache)']);
    const list = await runCli(['components', 'cache', '--json'], { env });
    expect((JSON.parse(list.stdout) as { entries: Array<{ name: string }> }).entries.map((e) => e.name)).toEqual(['development/frontend-developer', 'testing/generate-tests']);
  });

  it('one-liner 2 on the E2B emulator: --sandbox e2b --agent security/security-auditor --timeout 300 (seconds, as in claude-code-templates)', async () => {
    const server = await e2b.serve({ steps: [bash("printf 'no findings\\n' > AUDIT.md"), { text: 'audited' }] });
    catalog = await startCatalog();
    const home = tempDir();
    const repo = makeRepo({ 'app.js': 'eval(input)\n' });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--sandbox', 'e2b', '--agent', 'security/security-auditor', '--prompt', 'audit this codebase', '--timeout', '300', '--skip-agent-update', '--json'], {
      env: e2b.env(home, { PARALLEL_CC_COMPONENTS_URL: catalog.url }),
    });
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(systemText(server.requests.find((q) => q.main) as RecordedRequest)).toContain('PCC-SECURITY-AUDITOR');
    expect(git(repo, 'show', `${String(s.branch)}:AUDIT.md`)).toBe('no findings');
    const row = (await rowsOf(home)).find((x) => x.id === s.sessionId);
    expect(row).toMatchObject({ provider: 'e2b', timeoutSeconds: 300 });
    expect(parseNdjson(r.stdout).some((e) => e.type === 'phase' && String(e.message).startsWith('--timeout 300 read as 300 seconds (5 min)'))).toBe(true);
    // The agent file went to the sandbox user's ~/.claude, not the workspace.
    const sbx = e2b.sandboxOf(String(s.sessionId));
    expect(e2b.emulator().commands.filter((c) => c.sandboxId === sbx?.sandboxId).some((c) => c.cmd.includes('/home/user/.claude/agents/security-auditor.md'))).toBe(true);
  });

  it('MCP, settings and hook components reach claude in the sandbox (a hook runs there, never on the host)', async () => {
    const server = await e2b.serve({ steps: [{ toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/w.txt', content: 'w\n' } }] }, bash('echo "marker=$PCC_SETTING_MARKER"'), { text: 'done' }] });
    catalog = await startCatalog();
    const home = tempDir();
    const repo = makeRepo({ 'README.md': '# r\n' });
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--mcp', 'devtools/pcc-probe', '--setting', 'env/pcc-marker', '--hook', 'audit/log-writes', '--prompt', 'p', '--json'], {
      env: e2b.env(home, { PARALLEL_CC_COMPONENTS_URL: catalog.url }),
    });
    expect(r.code, r.stderr).toBe(0);
    // The MCP server ran in the sandbox and connected: claude offers its tool to the model (as a deferred tool).
    expect(JSON.stringify(server.requests.find((q) => q.main)?.body)).toContain('mcp__pcc-probe__pcc_probe_tool');
    expect(server.toolResults().map((t) => t.content).join('\n')).toContain('marker=setting-applied');
    const branch = String(summaryOf(r.stdout).branch);
    expect(git(repo, 'show', `${branch}:hook-ran.txt`)).toBe('hook-ran');
    expect(existsSync(join(repo, 'hook-ran.txt'))).toBe(false);
  });

  it('components list reads the catalog index (the cache when offline, with a warning); show prints one and caches it', async () => {
    catalog = await startCatalog();
    const home = tempDir();
    const env = e2b.env(home, { PARALLEL_CC_COMPONENTS_URL: catalog.url });
    const list = await runCli(['components', 'list', '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    const entries = (JSON.parse(list.stdout) as { entries: Array<{ kind: string; name: string; from: string }> }).entries;
    expect(entries.map((e) => `${e.kind} ${e.name}`)).toEqual(['agent development/frontend-developer', 'agent security/security-auditor', 'command testing/generate-tests', 'mcp devtools/pcc-probe']);
    const agents = await runCli(['components', 'list', '--kind', 'agent'], { env });
    expect(agents.stdout).toMatch(/^agent development\/frontend-developer +Frontend development specialist for React applications\.$/m);
    const show = await runCli(['components', 'show', 'agent', 'development/frontend-developer'], { env });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('You are PCC-FRONTEND-AGENT');
    await catalog.close();
    catalog = undefined;
    const offline = await runCli(['components', 'list', '--json'], { env });
    expect(offline.code).toBe(0);
    expect((JSON.parse(offline.stdout) as { entries: Array<{ name: string; from: string }> }).entries).toEqual([expect.objectContaining({ name: 'development/frontend-developer', from: 'cache' })]);
    expect(offline.stderr).toMatch(/^warning: cannot fetch the index from the component catalog: .*; listing the cache instead$/m);
    const bad = await runCli(['components', 'list', '--kind', 'plugin'], { env });
    expect(bad.code).toBe(2);
  });

  it('an unknown component, broken front matter and a catalog that does not answer are exit 2 with nothing created', async () => {
    catalog = await startCatalog();
    const home = tempDir();
    const repo = makeRepo();
    const env = e2b.env(home, { PARALLEL_CC_COMPONENTS_URL: catalog.url, PARALLEL_CC_COMPONENTS_TIMEOUT: '1' });
    const run = (...extra: string[]) => runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'p', ...extra], { env });
    const unknown = await run('--agent', 'development/no-such-agent');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown agent "development\/no-such-agent": the catalog has no agents\/development\/no-such-agent\.md/);
    const broken = await run('--agent', 'broken/bad-agent');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/component .*bad-agent\.md has broken front matter: line 3 is not `key: value`/);
    const local = join(tempDir(), 'mine.md');
    writeFiles(join(local, '..'), { 'mine.md': '---\nname: mine\n---\nbody\n' });
    const noDescription = await run('--agent', local);
    expect(noDescription.code).toBe(2);
    expect(noDescription.stderr).toMatch(/is not a valid agent: description: Required/);
    catalog.hang();
    const started = Date.now();
    const slow = await run('--command', 'testing/generate-tests');
    expect(slow.code).toBe(2);
    expect(slow.stderr).toMatch(/cannot fetch command "testing\/generate-tests" from the component catalog: no answer within 1 s/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await rowsOf(home)).toEqual([]);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
  });
});
