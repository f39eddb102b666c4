/**
 * `npm run demo`: a real run of the real Claude Code binary in the native sandbox, against the bundled
 * scripted model server (no API key or network needed). It makes a throwaway repo, runs
 * `parallel-cc sandbox run` on it with the live stream on this terminal, then prints the resulting
 * branch with `git log --stat`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenario, startModelServer } from '../test/fixtures/model-server/server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'parallel-cc-demo-'));
const repo = join(work, 'demo-repo');
const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

execFileSync('git', ['init', '-q', '-b', 'main', repo]);
git('config', 'user.name', 'Demo User');
git('config', 'user.email', 'demo@example.com');
writeFileSync(join(repo, 'README.md'), '# demo repo\n');
writeFileSync(join(repo, 'obsolete.txt'), 'this file is removed by the agent\n');
writeFileSync(join(repo, '.env'), 'DEMO_SECRET=never-leaves-this-machine\n');
writeFileSync(join(repo, '.gitignore'), '.env\n');
git('add', 'README.md', 'obsolete.txt', '.gitignore');
git('commit', '-q', '-m', 'initial commit');

const server = await startModelServer({ scenario: loadScenario(join(root, 'test/fixtures/scenarios/e2e.json')) });
process.stderr.write(`demo repo: ${repo}\nscripted model server: ${server.url}\n\n`);
const env = {
  ...process.env,
  PARALLEL_CC_HOME: join(work, 'parallel-cc-home'),
  ANTHROPIC_BASE_URL: server.url,
  ANTHROPIC_API_KEY: 'sk-ant-demo-key-stays-on-the-host',
};
const prompt = 'Create hello.txt, compute 6*7 into out.txt with node, commit, then start notes.md and remove obsolete.txt.';
const child = spawn(process.execPath, [join(root, 'dist/bin.js'), 'sandbox', 'run', '--repo', repo, '--prompt', prompt, '--timeout', '5'], {
  env,
  stdio: 'inherit',
});
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await server.close();
if (code !== 0) {
  process.stderr.write(`\nparallel-cc exited with ${code}\n`);
  process.exit(code);
}
const branch = git('for-each-ref', '--format=%(refname:short)', 'refs/heads/parallel-cc/').trim();
process.stdout.write(`\n$ git log --stat main..${branch}\n${git('log', '--stat', `main..${branch}`)}`);
