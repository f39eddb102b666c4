/**
 * Issue 26's cases: the fixed cost of one sandboxed run against what a user would do by hand (a
 * `git worktree add` and the raw `claude -p` of the same task), `--multi` against `xargs -P` of
 * those raw runs, our own overhead of `sandbox exec` beyond bare bwrap and a bare node, and a docker
 * run against `docker run --rm` of the raw claude on a bind-mounted worktree. Every side runs the
 * real claude binary against the same scripted model server (one Bash call that commits).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startModelServer, type ModelServer } from '../test/fixtures/model-server/server.js';
import { generatedRepo } from './fixtures.js';
import { BARE_BWRAP, BIN, dockerUp, IMAGE, median, paired, runArgv, skipped, tmp, type BenchCase, type CaseResult } from './harness.js';

const CLAUDE = fileURLToPath(new URL('../node_modules/.bin/claude', import.meta.url));
const RAW_TASK = fileURLToPath(new URL('./raw-task.sh', import.meta.url));
const KEY = 'sk-ant-bench-000000000000';
const STEPS = { steps: [{ toolUses: [{ name: 'Bash', input: { command: 'echo bench > bench.txt && git add -A && git commit -qm bench' } }] }, { text: 'done' }] };

/** The environment of both sides: the model server, a key, no telemetry, a throwaway home. */
function env(server: ModelServer, home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PARALLEL_CC_HOME: home,
    HOME: home,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // claude refuses --dangerously-skip-permissions as root unless told it is in a sandbox (the bench may run as root).
    IS_SANDBOX: '1',
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
  };
}

/** Removes the worktrees and branches a case made in the cached repo. */
function reset(repo: string): void {
  const list = execFileSync('git', ['-C', repo, 'worktree', 'list', '--porcelain'], { encoding: 'utf8' });
  for (const m of list.matchAll(/^worktree (.+)$/gm)) if (m[1] !== repo) execFileSync('git', ['-C', repo, 'worktree', 'remove', '--force', m[1] as string]);
  execFileSync('git', ['-C', repo, 'worktree', 'prune']);
  const branches = execFileSync('git', ['-C', repo, 'branch', '--format=%(refname:short)'], { encoding: 'utf8' })
    .split('\n')
    .filter((b) => b.startsWith('raw-') || b.startsWith('parallel-cc/'));
  if (branches.length) execFileSync('git', ['-C', repo, 'branch', '-D', ...branches]);
}

/** One raw run by hand: `git worktree add` + `claude -p` in it (bench/raw-task.sh). */
const raw = (repo: string, e: NodeJS.ProcessEnv, n: string) => runArgv(['bash', RAW_TASK, repo, CLAUDE, n], { env: e });

/** Runs `fn` with a model server and a cached repo, cleaning both up after. */
async function withServer(fn: (server: ModelServer, repo: string) => Promise<CaseResult>): Promise<CaseResult> {
  const server = await startModelServer({ scenario: STEPS });
  const repo = generatedRepo('fixed', 50, 1024);
  reset(repo);
  try {
    return await fn(server, repo);
  } finally {
    reset(repo);
    await server.close();
  }
}

let seq = 0;

const trivialRun: BenchCase = {
  name: 'trivial run: sandbox run --provider native vs git worktree add + raw claude -p',
  run: () =>
    withServer(async (server, repo) => {
      const home = tmp('pcc-bench-tr-');
      const e = env(server, home);
      const { ours, baseline } = await paired(
        7,
        () => runArgv([process.execPath, BIN, 'sandbox', 'run', '--repo', repo, '--prompt', 'commit a file', '--provider', 'native', '--json'], { env: e }),
        () => raw(repo, e, String(seq++)),
      );
      rmSync(home, { recursive: true, force: true });
      const over = median(ours) - median(baseline);
      const ratio = median(ours) / median(baseline);
      return { name: 'trivial run: sandbox run --provider native vs git worktree add + raw claude -p', unit: 'ms', ours, baseline, goal: '≤ +250 ms and ≤ 1.35×', met: over <= 250 && ratio <= 1.35, ratio, notes: `+${over.toFixed(0)} ms` };
    }),
};

const multiVsXargs: BenchCase = {
  name: '--multi: 12 tasks at 4 vs xargs -P 4 of the same raw runs',
  run: () =>
    withServer(async (server, repo) => {
      const home = tmp('pcc-bench-mx-');
      const e = env(server, home);
      const tasks = Array.from({ length: 12 }, (_, i) => ['--task', `commit a file ${i}`]).flat();
      const outputs: string[] = [];
      const { ours, baseline } = await paired(
        2,
        () => runArgv([process.execPath, BIN, 'sandbox', 'run', '--multi', '--repo', repo, ...tasks, '--max-concurrent', '4', '--output-dir', outputs[outputs.push(tmp('pcc-bench-mxo-')) - 1] as string, '--json'], { env: e }),
        () => runArgv(['xargs', '-P', '4', '-n', '1', 'bash', RAW_TASK, repo, CLAUDE], { env: e, input: Array.from({ length: 12 }, () => String(seq++)).join('\n') }),
      );
      for (const d of [home, ...outputs]) rmSync(d, { recursive: true, force: true });
      const ratio = median(ours) / median(baseline);
      return { name: '--multi: 12 tasks at 4 vs xargs -P 4 of the same raw runs', unit: 'ms', ours, baseline, goal: '≤ 1.15×', met: ratio <= 1.15, ratio };
    }),
};

const execOverhead: BenchCase = {
  name: 'native exec own overhead: sandbox exec -- true minus bare bwrap minus node -e 0',
  async run() {
    const samples = { ours: [] as number[], bwrap: [] as number[], node: [] as number[] };
    const bare = await paired(7, () => runArgv([process.execPath, BIN, 'sandbox', 'exec', '--', 'true']), () => runArgv(BARE_BWRAP));
    const node = await paired(7, () => runArgv([process.execPath, '-e', '0']), () => runArgv(['true']));
    samples.ours = bare.ours;
    samples.bwrap = bare.baseline;
    samples.node = node.ours;
    const own = median(samples.ours) - median(samples.bwrap) - median(samples.node);
    return { name: this.name, unit: 'ms', ours: samples.ours, baseline: samples.bwrap, goal: '≤ 60 ms of our own', met: own <= 60, ratio: median(samples.ours) / median(samples.bwrap), notes: `own ${own.toFixed(0)} ms (node -e 0: ${median(samples.node).toFixed(0)} ms)` };
  },
};

const dockerRun: BenchCase = {
  name: 'docker trivial run: sandbox run --provider docker vs docker run --rm IMG claude -p on a bind-mounted worktree',
  run: async () => {
    if (!dockerUp()) return skipped('docker trivial run: sandbox run --provider docker vs docker run --rm IMG claude -p on a bind-mounted worktree', '≤ 1.3×', 'no docker daemon');
    return withServer(async (server, repo) => {
      const home = tmp('pcc-bench-dr-');
      const e = env(server, home);
      const rawDocker = async (): Promise<void> => {
        const n = String(seq++);
        // An empty folder of its own: the reset's `git worktree remove` takes it away whole.
        const wt = tmp('pcc-bench-drw-');
        await runArgv(['git', '-C', repo, 'worktree', 'add', '-q', '-b', `raw-${n}`, wt, 'HEAD']);
        // The worktree's .git names the repo's folder: both are mounted at their host paths.
        await runArgv(
          ['docker', 'run', '--rm', '-i', '--network', 'host', '--user', '1000:1000', '-v', `${repo}:${repo}`, '-v', `${wt}:${wt}`, '-v', `${CLAUDE}:/usr/local/bin/claude:ro`, '-w', wt,
            '-e', 'HOME=/tmp', '-e', `ANTHROPIC_BASE_URL=${server.url}`, '-e', `ANTHROPIC_API_KEY=${KEY}`, '-e', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1',
            '-e', 'GIT_AUTHOR_NAME=Bench', '-e', 'GIT_AUTHOR_EMAIL=bench@example.com', '-e', 'GIT_COMMITTER_NAME=Bench', '-e', 'GIT_COMMITTER_EMAIL=bench@example.com',
            IMAGE, 'claude', '-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'],
          { env: e, input: 'commit a file' },
        );
      };
      const { ours, baseline } = await paired(5, () => runArgv([process.execPath, BIN, 'sandbox', 'run', '--repo', repo, '--prompt', 'commit a file', '--provider', 'docker', '--json'], { env: e }), rawDocker);
      rmSync(home, { recursive: true, force: true });
      const ratio = median(ours) / median(baseline);
      return { name: 'docker trivial run: sandbox run --provider docker vs docker run --rm IMG claude -p on a bind-mounted worktree', unit: 'ms', ours, baseline, goal: '≤ 1.3×', met: ratio <= 1.3, ratio };
    });
  },
};

/** Issue 26's cases, in its order. */
export const FIXED_COST_CASES: BenchCase[] = [trivialRun, multiVsXargs, execOverhead, dockerRun];
