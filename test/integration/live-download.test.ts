/**
 * `sandbox download` while the agent still works, on every local provider: the agent's committed and
 * uncommitted work comes out of the live sandbox (collected like results, without touching the
 * agent's repo), and a live tree holding a link out of the repo is refused with nothing written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli, startCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { makeRepo, tempDir } from '../helpers/git-repo.js';

const bash = (command: string): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, timeout: 120_000 } }] });
const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function whileWorking(provider: string, work: string, during: (id: string, env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  // The agent works, then waits for the model's next answer (a slow model): the window to look in.
  server = await startModelServer({ scenario: { steps: [bash(`${work} && echo ready`), { delayMs: 12_000, text: 'done' }] } });
  const repo = makeRepo({ 'README.md': '# r\n', 'src/keep.ts': 'export {};\n' });
  const env = { ...process.env, PARALLEL_CC_HOME: tempDir('pcc-live-home-'), ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: `sk-ant-live-${'x'.repeat(24)}`, NO_COLOR: '1' };
  const run = startCli(['sandbox', 'run', '--repo', repo, '--prompt', 'work', '--json', '--provider', provider], { env });
  let out = '';
  run.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await expect.poll(() => server?.toolResults().some((t) => t.content.includes('ready')) ?? false, { timeout: 60_000, interval: 200 }).toBe(true);
  const id = String(parseNdjson(out.split('\n').slice(0, 1).join('\n'))[0]?.sessionId);
  try {
    await during(id, env);
  } finally {
    const done = await run.done;
    expect(done.code, done.stderr).not.toBeNull();
  }
}

describe.each(PROVIDERS)('live sandbox download on the %s provider', (provider) => {
  it('brings the committed and uncommitted work out of the running sandbox', async () => {
    await whileWorking(provider, `mkdir -p src && echo 'export const f = 1;' > src/feature.ts && git add -A && git commit -qm feature && echo draft > notes.md`, async (id, env) => {
      const dir = join(tempDir('pcc-live-out-'), 'out');
      const r = await runCli(['sandbox', 'download', id, '--output', dir, '--json', '--verbose'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout), r.stderr).toMatchObject({ source: 'live-sandbox' });
      const got = JSON.parse(r.stdout) as { source: string; files: string[] };
      expect(got.source).toBe('live-sandbox');
      expect(got.files.sort()).toEqual(['notes.md', 'src/feature.ts']);
      expect(readFileSync(join(dir, 'src', 'feature.ts'), 'utf8')).toBe('export const f = 1;\n');
      expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('draft\n');
      const all = await runCli(['sandbox', 'download', id, '--all', '--output', `${dir}-all`, '--json'], { env });
      expect((JSON.parse(all.stdout) as { files: string[] }).files.sort()).toEqual(['README.md', 'notes.md', 'src/feature.ts', 'src/keep.ts']);
    });
  });

  it('refuses a live tree with a link out of the repo and writes nothing', async () => {
    await whileWorking(provider, `ln -s /etc/passwd pw && echo fine > ok.txt`, async (id, env) => {
      const dir = join(tempDir('pcc-live-out-'), 'out');
      const r = await runCli(['sandbox', 'download', id, '--output', dir], { env });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/refused to download: pw: symlink to an absolute path \(\/etc\/passwd\)/);
      expect(existsSync(dir)).toBe(false);
    });
  });
});
