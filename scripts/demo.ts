/**
 * `npm run demo`: a real run of the real Claude Code binary in the native sandbox, against the bundled
 * scripted model server (no API key or network needed). It makes a throwaway repo, runs
 * `parallel-cc sandbox run` on it with the live stream on this terminal, then prints the resulting
 * branch with `git log --stat`. Everything lives in one temp folder, which is removed at the end
 * (`npm run demo -- --keep` keeps it to look around).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenario, startModelServer } from '../test/fixtures/model-server/server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.slice(2).includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'parallel-cc-demo-'));
/** Says where the throwaway folder is, or removes it (repo, registry, worktrees: all inside `work`). */
const finish = (code: number): never => {
  if (keep) process.stderr.write(`\nkept the demo folder: ${work} (remove it with: rm -rf ${work})\n`);
  else {
    rmSync(work, { recursive: true, force: true });
    process.stderr.write(`\nremoved the demo folder ${work} (run \`npm run demo -- --keep\` to keep it)\n`);
  }
  process.exit(code);
};
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
process.stderr.write(`demo folder: ${work} (${keep ? 'kept afterwards' : 'removed at the end; --keep keeps it'})\ndemo repo: ${repo}\nscripted model server: ${server.url}\n\n`);
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
// Ctrl-C reaches parallel-cc through the terminal; the demo waits for it to save its work, then cleans up.
process.on('SIGINT', () => undefined);
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await server.close();
if (code !== 0) {
  process.stderr.write(`\nparallel-cc exited with ${code}\n`);
  finish(code);
}
const branch = git('for-each-ref', '--format=%(refname:short)', 'refs/heads/parallel-cc/').trim();
process.stdout.write(`\n$ git log --stat main..${branch}\n${git('log', '--stat', `main..${branch}`)}`);
finish(0);
