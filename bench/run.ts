/**
 * `npm run bench`: every case of bench/cases.ts, ours vs the raw baseline, printed as a table and
 * written to bench/results.json and bench/results.md. `BENCH_ONLY=<substring>` runs matching cases.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CASES } from './cases.js';
import { markdown, removeScratch, type CaseResult } from './harness.js';

const only = process.env.BENCH_ONLY;
const results: CaseResult[] = [];
const started = Date.now();
// The cases that write a lot (upload: ~1.1 GB; --multi: 20 sessions) run last, so the disk's
// write-back after them lands in no other case's timings; the table keeps the issue's order.
const heavy = (name: string): boolean => name.startsWith('upload') || name.startsWith('--multi');
const order = [...CASES.filter((c) => !heavy(c.name)), ...CASES.filter((c) => heavy(c.name))];
for (const c of order.filter((x) => !only || x.name.includes(only))) {
  process.stderr.write(`bench: ${c.name}…\n`);
  // Each case starts with no dirty pages left by the one before (the upload case writes ~1.1 GB),
  // so background write-back does not land in the next case's timings.
  spawnSync('sync');
  try {
    results.push(await c.run());
  } catch (e) {
    results.push({ name: c.name, unit: 'ms', ours: [], baseline: [], goal: '-', met: false, ratio: NaN, skipped: `failed: ${(e as Error).message.split('\n')[0] ?? ''}` });
  } finally {
    // The case's scratch folders (homes, worktrees, bundles); the cached inputs stay for the next run.
    removeScratch();
  }
  const r = results[results.length - 1] as CaseResult;
  process.stderr.write(`  ${r.skipped ? `skipped: ${r.skipped}` : `${Number.isNaN(r.ratio) ? '' : `${r.ratio.toFixed(2)}× `}${r.met ? 'met' : 'MISSED'} (${r.goal})${r.notes ? ` — ${r.notes}` : ''}`}\n`);
}
results.sort((x, y) => CASES.findIndex((c) => c.name === x.name) - CASES.findIndex((c) => c.name === y.name));
const table = markdown(results, `${new Date().toISOString().slice(0, 10)} on ${process.platform}/${process.arch}, node ${process.version}, total ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(`\n${table}`);
const dir = fileURLToPath(new URL('.', import.meta.url));
if (!only) {
  writeFileSync(`${dir}results.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${dir}results.md`, table);
}
