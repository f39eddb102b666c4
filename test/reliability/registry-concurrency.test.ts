/**
 * 16 processes creating, updating and listing sessions in one registry for 30 s (set
 * PCC_CONCURRENCY_SECONDS to shorten locally): zero SQLITE_BUSY (or any other) errors and exact row
 * counts. WAL plus the busy timeout and short transactions are what make this hold.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

const WORKER = fileURLToPath(new URL('./fixtures/registry-worker.mjs', import.meta.url));
const PROCESSES = 16;
const SECONDS = Number(process.env.PCC_CONCURRENCY_SECONDS ?? 30);

interface WorkerReport {
  workerId: string;
  created: number;
  lists: number;
  errors: Record<string, number>;
}

function runWorker(dbPath: string, id: number): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, dbPath, String(id), String(SECONDS * 1000)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerReport) : reject(new Error(`worker ${id} exited ${String(code)}: ${err}`))));
  });
}

describe('registry under concurrent processes', () => {
  it(`${PROCESSES} processes for ${SECONDS}s: no SQLITE_BUSY, exact counts`, { timeout: (SECONDS + 60) * 1000 }, async () => {
    const dbPath = join(tempDir('pcc-conc-'), 'coordinator.db');
    // All start on a fresh file at once: migrations must also be race-free.
    const reports = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => runWorker(dbPath, i)));
    expect(reports.flatMap((r) => Object.entries(r.errors).map(([k, n]) => `worker ${r.workerId}: ${k} ×${n}`))).toEqual([]);
    const db = openDb(dbPath);
    const repo = new SessionRepository(db);
    const rows = repo.list();
    expect(rows).toHaveLength(reports.reduce((n, r) => n + r.created, 0));
    for (const r of reports) expect(repo.list({ repoPath: `/repo/${r.workerId}` })).toHaveLength(r.created);
    expect(rows.every((s) => s.status === 'completed' && s.commits === 1)).toBe(true);
    expect(reports.every((r) => r.created > 10)).toBe(true);
    db.close();
  });
});
