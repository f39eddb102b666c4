/** The benchmark cases of `npm run bench` (issue 10 / spec 001 performance targets). */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { collectSandboxResults, initSandboxRepo, SANDBOX_BRANCH } from '../src/core/sandbox-repo.js';
import { importResults } from '../src/core/sync/results.js';
import { planUpload } from '../src/core/sync/plan.js';
import { createSessionWorktree } from '../src/core/worktree.js';
import { NativeProvider } from '../src/providers/native/index.js';
import { execCollect } from '../src/providers/provider.js';
import { openDb } from '../src/store/db.js';
import { SessionRepository } from '../src/store/sessions.js';
import { startModelServer } from '../test/fixtures/model-server/server.js';
import { addIgnoredNodeModules, fakeAgent, generatedRepo } from './fixtures.js';
import { BARE_BWRAP, BIN, dockerUp, IMAGE, median, paired, ratioResult, runArgv, sample, skipped, tmp, type BenchCase, type CaseResult } from './harness.js';
import { daytonaRoundTrip } from './cases-daytona.js';
import { e2bRoundTrip } from './cases-e2b.js';
import { FIXED_COST_CASES } from './cases-fixed-cost.js';
import { dashboard50 } from './cases-dashboard.js';

const ID = { name: 'Bench', email: 'bench@example.com' };
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => runArgv([process.execPath, BIN, ...args], { env });

/** Leaves a cached repo as it was: no worktrees or bench branches piling up run after run. */
async function resetRepo(repo: string): Promise<void> {
  const listed = (await runArgv(['git', '-C', repo, 'worktree', 'list', '--porcelain'])).stdout;
  const worktrees = [...listed.matchAll(/^worktree (.+)$/gm)].map((m) => m[1] as string).filter((w) => w !== repo);
  for (const w of worktrees) await runArgv(['git', '-C', repo, 'worktree', 'remove', '--force', w]);
  await runArgv(['git', '-C', repo, 'worktree', 'prune']);
  const branches = (await runArgv(['git', '-C', repo, 'branch', '--format=%(refname:short)', '--list', 'bench-*'])).stdout.split('\n').filter(Boolean);
  if (branches.length) await runArgv(['git', '-C', repo, 'branch', '-D', ...branches]);
}


const nativeRoundTrip: BenchCase = {
  name: 'native round trip: sandbox exec -- true vs bare bwrap',
  async run() {
    const { ours, baseline } = await paired(7, () => cli(['sandbox', 'exec', '--', 'true']), () => runArgv(BARE_BWRAP));
    const over = median(ours) - median(baseline);
    return { name: this.name, unit: 'ms', ours, baseline, goal: '≤ 120 ms over bare (Node start included)', met: over <= 120, ratio: median(ours) / median(baseline), notes: `+${over.toFixed(0)} ms` };
  },
};

const dockerRoundTrip: BenchCase = {
  name: 'docker round trip: sandbox exec --provider docker -- true vs docker run --rm',
  async run() {
    if (!dockerUp()) return skipped(this.name, '≤ 1.15×', 'no docker daemon');
    const { ours, baseline } = await paired(5, () => cli(['sandbox', 'exec', '--provider', 'docker', '--', 'true']), () => runArgv(['docker', 'run', '--rm', '--network', 'none', IMAGE, 'true']));
    return ratioResult(this.name, ours, baseline, 1.15);
  },
};

/** Streams `git ls-files -z | tar --null -T - -czf - | tar -xzf - -C dest` with argv-only processes. */
function rawTarCopy(repo: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ls = spawn('git', ['-C', repo, 'ls-files', '-z'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pack = spawn('tar', ['--null', '-T', '-', '-czf', '-'], { cwd: repo, stdio: ['pipe', 'pipe', 'inherit'] });
    const unpack = spawn('tar', ['-xzf', '-', '-C', dest], { stdio: ['pipe', 'ignore', 'inherit'] });
    ls.stdout.pipe(pack.stdin);
    pack.stdout.pipe(unpack.stdin);
    unpack.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited ${String(code)}`))));
  });
}

const upload: BenchCase = {
  name: 'upload 100 MB / 5,000 files (+1 GB ignored node_modules) vs git ls-files | tar -cz | tar -xz',
  async run() {
    const repo = generatedRepo('upload', 5000, 20 * 1024, addIgnoredNodeModules);
    const provider = new NativeProvider(process.env);
    const ours = await sample(3, async () => {
      const dir = tmp('pcc-bench-up-');
      const box = await provider.create({ sessionId: 'benchup', sandboxDir: dir, bridges: {}, labels: {} });
      await provider.upload(box, await planUpload(repo));
      await provider.destroy(box);
      rmSync(dir, { recursive: true, force: true });
    });
    const baseline = await sample(3, async () => {
      const dir = tmp('pcc-bench-tar-');
      await rawTarCopy(repo, dir);
      rmSync(dir, { recursive: true, force: true });
    });
    return ratioResult(this.name, ours, baseline, 1.2, 'ours copies files (no compression), streaming; the ignored 1 GB is never read');
  },
};

const resultsBack: BenchCase = {
  name: 'results back: 1,000 changed files in 50 commits, collect + rebuild + judge vs git bundle + fetch',
  async run() {
    const repo = generatedRepo('results', 1000, 2048);
    const provider = new NativeProvider(process.env);
    const dir = tmp('pcc-bench-res-');
    const box = await provider.create({ sessionId: 'benchres', sandboxDir: dir, bridges: {}, labels: {} });
    await provider.upload(box, await planUpload(repo));
    const start = await initSandboxRepo(provider, box, { identity: ID, baseLabel: 'bench' });
    const script = `const fs=require('fs');const {execFileSync:x}=require('child_process');for(let c=0;c<50;c++){for(let k=0;k<20;k++){const i=c*20+k;const f='src/d'+Math.floor(i/100)+'/f'+i+'.txt';fs.appendFileSync(f,'change '+c+'\\n');}x('git',['commit','-qam','change '+c]);}`;
    await execCollect(provider, box, { argv: ['node', '-e', script] });
    const workspace = provider.hostWorkdir(box) as string;
    let n = 0;
    // The session worktree exists from the start of a run; only bringing the results back is timed.
    await resetRepo(repo);
    const worktrees: string[] = [];
    for (let i = 0; i < 5; i++) {
      const wt = join(tmp('pcc-bench-wt-'), 'w');
      await createSessionWorktree({ repoRoot: repo, baseCommit: 'HEAD', branch: `bench-res-${process.pid}-${n++}`, path: wt, includeWorkingState: false, identity: ID });
      worktrees.push(wt);
    }
    const { ours, baseline } = await paired(
      5,
      async () => {
        const wt = worktrees.shift() as string;
        const mbox = await collectSandboxResults(provider, box, { startCommit: start, identity: ID });
        await importResults({ worktreePath: wt, sessionDir: tmp('pcc-bench-sd-'), mbox, identity: ID });
      },
      async () => {
        const bundle = join(tmp('pcc-bench-bundle-'), 'b.bundle');
        // A baseline that fails is fast: each step must succeed to count.
        for (const argv of [['git', '-C', workspace, 'bundle', 'create', bundle, '--all'], ['git', '-C', repo, 'fetch', '-q', bundle, `+refs/heads/${SANDBOX_BRANCH}:refs/heads/bench-bundle-${n++}`]]) {
          const r = await runArgv(argv);
          if (r.code !== 0) throw new Error(`baseline \`${argv.join(' ')}\` failed: ${r.stderr}`);
        }
      },
    );
    await provider.destroy(box);
    await resetRepo(repo);
    return ratioResult(this.name, ours, baseline, 1.2, 'ours judges every tree before anything lands and checks the worktree out; the bundle is unchecked');
  },
};

const eventLatency: BenchCase = {
  name: 'event latency: 1,000 agent events, emit → our --json stdout',
  async run() {
    const agent = fakeAgent({ events: 1000, gapMs: 2 });
    const repo = generatedRepo('latency', 10, 100);
    const home = tmp('pcc-bench-lat-');
    const env = { ...process.env, PARALLEL_CC_HOME: home, PARALLEL_CC_CLAUDE_BIN: agent, ANTHROPIC_API_KEY: 'sk-ant-bench-000000000000', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' };
    const lat: number[] = [];
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'sandbox', 'run', '--repo', repo, '--prompt', 'latency', '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      let rest = '';
      child.stdout.on('data', (d: Buffer) => {
        const now = performance.timeOrigin + performance.now();
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) {
          const m = /"text":"t=([\d.]+)"/.exec(l);
          if (m?.[1]) lat.push(now - Number(m[1]));
        }
      });
      child.on('close', () => resolve());
    });
    const sorted = [...lat].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? NaN;
    return { name: this.name, unit: 'ms', ours: lat, baseline: [], goal: 'p95 < 50 ms', met: p95 < 50, ratio: NaN, notes: `${lat.length} events; p50 ${median(lat).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms` };
  },
};

async function peakRss(pid: number, until: Promise<unknown>): Promise<number> {
  let peak = 0;
  let done = false;
  void until.then(() => (done = true));
  while (!done) {
    const status = (() => {
      try {
        return readFileSync(`/proc/${pid}/status`, 'utf8');
      } catch {
        return '';
      }
    })();
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kb / 1024);
    await new Promise((r) => setTimeout(r, 100));
  }
  return peak;
}

const multi: BenchCase = {
  name: '--multi: 20 trivial tasks at concurrency 8 vs ceil(20/8) × one task; peak orchestrator RSS at 50 concurrent',
  async run() {
    const server = await startModelServer({ scenario: { steps: [{ text: 'done' }] } });
    const repo = generatedRepo('multi', 10, 100);
    const env = (home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_API_KEY: 'sk-ant-bench-000000000000', ANTHROPIC_BASE_URL: server.url, ...extra });
    const tasks = (n: number): string[] => Array.from({ length: n }, (_, i) => ['--task', `trivial task ${i}`]).flat();
    try {
      const single = await sample(2, () => cli(['sandbox', 'run', '--repo', repo, '--prompt', 'trivial', '--json'], env(tmp('pcc-bench-m1-'))));
      const wall = await sample(1, () => cli(['sandbox', 'run', '--multi', '--repo', repo, ...tasks(20), '--max-concurrent', '8', '--output-dir', tmp('pcc-bench-mo-'), '--json'], env(tmp('pcc-bench-m20-'))));
      const ideal = Math.ceil(20 / 8) * median(single);
      // RSS at 50 concurrent: a fake agent that holds each sandbox for 5 s, so all 50 overlap.
      const agent = fakeAgent({ events: 5, gapMs: 10, sleepMs: 5000 });
      const child = spawn(process.execPath, [BIN, 'sandbox', 'run', '--multi', '--repo', repo, ...tasks(50), '--max-concurrent', '50', '--output-dir', tmp('pcc-bench-m50o-'), '--json'], {
        env: env(tmp('pcc-bench-m50-'), { PARALLEL_CC_CLAUDE_BIN: agent }),
        stdio: 'ignore',
      });
      const rss = await peakRss(child.pid as number, new Promise((r) => child.on('close', r)));
      const ratio = median(wall) / ideal;
      const met = ratio <= 1.5 && rss < 250;
      return { name: this.name, unit: 'ms', ours: wall, baseline: [ideal], goal: '≤ 1.5× ideal; RSS < 250 MB', met, ratio, notes: `one task ${median(single).toFixed(0)} ms; peak RSS ${rss.toFixed(0)} MB at 50 concurrent` } satisfies CaseResult;
    } finally {
      await server.close();
    }
  },
};

const status1000: BenchCase = {
  name: 'status with 1,000 sessions (absolute; baseline = CLI start-up, --version)',
  async run() {
    const home = tmp('pcc-bench-st-');
    const db = openDb(join(home, 'coordinator.db'));
    const repo = new SessionRepository(db);
    const insert = db.transaction(() => {
      for (let i = 0; i < 1000; i++) {
        const id = i.toString(16).padStart(8, '0');
        repo.create({ id, repoPath: `/repos/r${i % 10}`, provider: 'native', status: i % 10 === 0 ? 'running' : 'completed', pid: i % 10 === 0 ? process.pid : 999999, promptExcerpt: `task ${i}` });
      }
    });
    insert();
    db.close();
    const env = { ...process.env, PARALLEL_CC_HOME: home };
    const { ours, baseline } = await paired(7, () => cli(['status', '--all', '--json'], env), () => cli(['--version'], env));
    return { name: this.name, unit: 'ms', ours, baseline, goal: '< 150 ms', met: median(ours) < 150, ratio: median(ours) / median(baseline), notes: `+${(median(ours) - median(baseline)).toFixed(0)} ms over start-up` };
  },
};

const history1000: BenchCase = {
  name: 'history --stats with 1,000 finished sessions (absolute; baseline = CLI start-up, --version)',
  async run() {
    const home = tmp('pcc-bench-hi-');
    const db = openDb(join(home, 'coordinator.db'));
    const repo = new SessionRepository(db);
    db.transaction(() => {
      for (let i = 0; i < 1000; i++) {
        const id = `h${i.toString(16).padStart(7, '0')}`;
        repo.create({ id, repoPath: `/repos/r${i % 10}`, provider: 'native', status: i % 4 ? 'completed' : 'failed', promptExcerpt: `task ${i}` });
        repo.update(id, { startedAt: new Date(Date.now() - (i + 2) * 60_000).toISOString(), completedAt: new Date(Date.now() - i * 60_000).toISOString(), costUsd: 0.01 });
      }
    })();
    db.close();
    const env = { ...process.env, PARALLEL_CC_HOME: home };
    const { ours, baseline } = await paired(7, () => cli(['history', '--stats', '--json'], env), () => cli(['--version'], env));
    rmSync(home, { recursive: true, force: true });
    return { name: this.name, unit: 'ms', ours, baseline, goal: '< 200 ms', met: median(ours) < 200, ratio: median(ours) / median(baseline), notes: `+${(median(ours) - median(baseline)).toFixed(0)} ms over start-up` };
  },
};

const worktree: BenchCase = {
  name: 'worktree creation on a 10,000-file repo vs git worktree add',
  async run() {
    const repo = generatedRepo('worktree', 10_000, 64);
    await resetRepo(repo);
    let n = 0;
    const { ours, baseline } = await paired(
      5,
      () => createSessionWorktree({ repoRoot: repo, baseCommit: 'HEAD', branch: `bench-wt-${process.pid}-${n++}`, path: join(tmp('pcc-bench-w1-'), 'w'), includeWorkingState: true, identity: ID }),
      () => runArgv(['git', '-C', repo, 'worktree', 'add', '-q', '-b', `bench-raw-${process.pid}-${n++}`, join(tmp('pcc-bench-w2-'), 'w'), 'HEAD']),
    );
    await resetRepo(repo);
    return ratioResult(this.name, ours, baseline, 1.1, 'ours also checks the working state for uncommitted work');
  },
};

/** Every case, in the order of issue 10, then the dashboard's (issue 25) and issue 26's. */
export const CASES: BenchCase[] = [nativeRoundTrip, dockerRoundTrip, e2bRoundTrip, daytonaRoundTrip, upload, resultsBack, eventLatency, multi, status1000, history1000, worktree, dashboard50, ...FIXED_COST_CASES];
