/** Generated inputs for the benchmarks (cached under /tmp between runs of the same machine). */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tmp } from './harness.js';

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-C', cwd, '-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();

/** A committed repo of `files` files of `size` bytes each (deterministic content), cached by name. */
export function generatedRepo(name: string, files: number, size: number, extra?: (root: string) => void): string {
  const root = join(tmpdir(), `pcc-bench-${name}`);
  if (existsSync(join(root, '.git', 'bench-done'))) return root;
  mkdirSync(root, { recursive: true });
  git(root, 'init', '-q', '-b', 'main');
  const chunk = Buffer.alloc(size);
  for (let i = 0; i < files; i++) {
    const dir = join(root, 'src', `d${Math.floor(i / 100)}`);
    mkdirSync(dir, { recursive: true });
    for (let j = 0; j < size; j += 4) chunk.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    writeFileSync(join(dir, `f${i}.txt`), chunk);
  }
  extra?.(root);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'generated');
  writeFileSync(join(root, '.git', 'bench-done'), '');
  return root;
}

/** A 1 GB node_modules (sparse files: instant to make, still 1 GB to any reader) ignored by .gitignore. */
export function addIgnoredNodeModules(root: string): void {
  writeFileSync(join(root, '.gitignore'), 'node_modules/\n');
  const dir = join(root, 'node_modules', 'huge');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 4; i++) {
    const fd = openSync(join(dir, `blob${i}.bin`), 'w');
    ftruncateSync(fd, 256 * 1024 * 1024);
    closeSync(fd);
  }
}

/**
 * A fake `claude` for latency/throughput cases: prints the stream-json of a run — an init event,
 * `events` assistant text events each carrying its emit time (epoch ms), a result — `gapMs` apart,
 * then optionally sleeps. It runs inside the sandbox, so it is plain node with no dependencies.
 */
export function fakeAgent(opts: { events: number; gapMs: number; sleepMs?: number }): string {
  const dir = tmp('pcc-bench-agent-');
  const file = join(dir, 'claude');
  writeFileSync(
    file,
    `#!/usr/bin/env node
const { performance } = require('perf_hooks');
const now = () => performance.timeOrigin + performance.now();
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
process.stdin.resume();
out({ type: 'system', subtype: 'init', model: 'fake', cwd: process.cwd(), session_id: 'fake', tools: [] });
let i = 0;
const tick = () => {
  if (i++ < ${opts.events}) {
    out({ type: 'assistant', message: { content: [{ type: 'text', text: 't=' + now() }] } });
    return setTimeout(tick, ${opts.gapMs});
  }
  setTimeout(() => {
    out({ type: 'result', subtype: 'success', is_error: false, result: 'done', total_cost_usd: 0, num_turns: 1, duration_ms: 1, usage: { input_tokens: 1, output_tokens: 1 } });
    process.exit(0);
  }, ${opts.sleepMs ?? 0});
};
tick();
`,
  );
  chmodSync(file, 0o755);
  chmodSync(dir, 0o755);
  return file;
}
