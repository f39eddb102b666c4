/**
 * The benchmark harness: each case measures ours and the raw baseline several times in one process
 * run; the report gives min/median of both, the ratio of the medians (or the difference, where the
 * goal is stated as an allowance), the goal, and whether it is met.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/** The built CLI every case runs (`npm run build` first). */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
/** The project root (where raw SDK scripts resolve their packages). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The docker image of the docker cases. */
export const IMAGE = 'parallel-cc-agent:latest';
/** The barest bwrap sandbox running `true`: the native cases' floor. */
export const BARE_BWRAP = ['bwrap', '--unshare-all', '--unshare-user', '--uid', '1000', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/true'];
/** A fresh temp folder named `<prefix>XXXXXX`. */
const scratch: string[] = [];

/** A scratch folder of the running case (the cached inputs of fixtures.ts are not made here): {@link removeScratch} removes it. */
export const tmp = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};

/** Removes every folder {@link tmp} made so far: bench/run.ts calls it after each case. */
export function removeScratch(): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** One measured case. */
export interface CaseResult {
  name: string;
  unit: 'ms' | 'MB';
  ours: number[];
  baseline: number[];
  /** Human statement of the goal, e.g. "≤ 1.2×" or "≤ 120 ms over bare". */
  goal: string;
  met: boolean;
  /** ours/baseline of the medians (or a value the case defines). */
  ratio: number;
  notes?: string;
  skipped?: string;
}

/** A benchmark case. */
export interface BenchCase {
  name: string;
  run(): Promise<CaseResult>;
}

/** Median of a sample. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Milliseconds an async function takes. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Runs argv to completion (no shell), optionally piping stdout into a second argv. */
export function runArgv(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd as string, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.input);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** True when a docker daemon answers. */
export function dockerUp(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** A result for a case that could not run here, with the reason. */
export function skipped(name: string, goal: string, why: string): CaseResult {
  return { name, unit: 'ms', ours: [], baseline: [], goal, met: false, ratio: NaN, skipped: why };
}

/** Builds a result comparing medians as a ratio against a maximum. */
export function ratioResult(name: string, ours: number[], baseline: number[], maxRatio: number, notes?: string): CaseResult {
  const ratio = median(ours) / median(baseline);
  return { name, unit: 'ms', ours, baseline, goal: `≤ ${maxRatio}×`, met: ratio <= maxRatio, ratio, ...(notes ? { notes } : {}) };
}

const fmt = (xs: number[], unit: string): string => (xs.length ? `${Math.min(...xs).toFixed(1)} / ${median(xs).toFixed(1)} ${unit}` : '-');

/** The markdown table of a run. */
export function markdown(results: CaseResult[], when: string): string {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${fmt(r.ours, r.unit)} | ${fmt(r.baseline, r.unit)} | ${Number.isNaN(r.ratio) ? '-' : `${r.ratio.toFixed(2)}×`} | ${r.goal} | ${r.skipped ? `skipped: ${r.skipped}` : r.met ? 'met' : '**missed**'} | ${r.notes ?? ''} |`,
  );
  return [`Benchmarks of ${when} (min / median).`, '', '| case | ours | baseline | ratio | goal | result | notes |', '|---|---|---|---|---|---|---|', ...rows, ''].join('\n');
}

/** Times `fn` `n` times in a row. */
export async function sample(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await time(fn));
  return out;
}
/**
 * Times ours and the baseline alternately (ours, base, base, ours, …), so both see the same machine:
 * on a small VM, disk write-back or another process would otherwise land on one side only.
 */
export async function paired(n: number, ours: () => Promise<unknown>, base: () => Promise<unknown>): Promise<{ ours: number[]; baseline: number[] }> {
  const r = { ours: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      r.ours.push(await time(ours));
      r.baseline.push(await time(base));
    } else {
      r.baseline.push(await time(base));
      r.ours.push(await time(ours));
    }
  }
  return r;
}

/**
 * A cloud provider's round trip against its local emulator: `sandbox exec --provider <p> -- true`
 * vs the smallest raw SDK program doing the same (`raw`, run with `node --input-type=module`), both
 * as processes against the same emulator, so the ratio is our overhead, not the vendor's latency.
 */
export async function cloudRoundTrip(name: string, provider: string, raw: string, emulator: () => Promise<{ env: NodeJS.ProcessEnv; close(): Promise<void> }>): Promise<CaseResult> {
  const emu = await emulator();
  try {
    const env = { ...process.env, ...emu.env };
    const { ours, baseline } = await paired(
      5,
      async () => {
        const r = await runArgv([process.execPath, BIN, 'sandbox', 'exec', '--provider', provider, '--', 'true'], { env });
        if (r.code !== 0) throw new Error(`sandbox exec failed: ${r.stderr}`);
      },
      async () => {
        const r = await runArgv([process.execPath, '--input-type=module', '-e', raw], { env, cwd: ROOT });
        if (r.code !== 0) throw new Error(`raw SDK script failed: ${r.stderr}`);
      },
    );
    return ratioResult(name, ours, baseline, 1.2, 'both are processes against the same local emulator: our overhead over a minimal SDK program');
  } finally {
    await emu.close();
  }
}
