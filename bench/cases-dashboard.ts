/**
 * The dashboard with 50 live sessions (issue #25): synthetic registry rows whose event logs keep
 * growing, the real `dashboard --web` process, and an SSE client like the page's. Measures event
 * appended → model on the stream (p95 < 300 ms) and the dashboard process's peak RSS (< 150 MB).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDb } from '../src/store/db.js';
import { SessionRepository } from '../src/store/sessions.js';
import { BIN, median, type BenchCase, type CaseResult } from './harness.js';

const SESSIONS = 50;
const EVENTS = 300;

const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** 50 live sessions → `dashboard --web` → SSE client: p95 event → stream, and peak RSS. */
export const dashboard50: BenchCase = {
  name: 'dashboard: 50 live sessions, event appended → SSE model (p95) and dashboard RSS',
  async run(): Promise<CaseResult> {
    const home = mkdtempSync(join(tmpdir(), 'pcc-bench-dash-'));
    const dirs: string[] = [];
    const db = openDb(join(home, 'coordinator.db'));
    const repo = new SessionRepository(db);
    for (let i = 0; i < SESSIONS; i++) {
      const id = (0x10000000 + i).toString(16);
      const dir = join(home, 'sessions', id);
      mkdirSync(dir, { recursive: true });
      // Owned by this process: alive, so every row is `running`.
      repo.create({ id, repoPath: home, provider: 'native', status: 'running', pid: process.pid, sessionDir: dir, taskId: `task-${i + 1}`, startedAt: new Date().toISOString() });
      appendFileSync(join(dir, 'events.ndjson'), `${JSON.stringify({ type: 'init', model: 'claude-bench', ts: new Date().toISOString() })}\n`);
      dirs.push(dir);
    }
    db.close();
    const child = spawn(process.execPath, [BIN, 'dashboard', '--web'], { env: { ...process.env, PARALLEL_CC_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) ok(out.trim());
        });
        child.on('exit', () => fail(new Error('dashboard exited before printing its URL')));
      });
      const sent = new Map<number, number>();
      const lat: number[] = [];
      let buf = '';
      const res = await new Promise<import('node:http').IncomingMessage>((ok) => request(url.replace('/?', '/api/events?'), ok).end());
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const now = performance.now();
          const m = JSON.parse(frame.replace(/^data: /, '')) as { rows: Array<{ step: string | null }> };
          for (const r of m.rows) {
            const k = /mark-(\d+)/.exec(r.step ?? '')?.[1];
            const t0 = k === undefined ? undefined : sent.get(Number(k));
            if (t0 !== undefined) {
              lat.push(now - t0);
              sent.delete(Number(k));
            }
          }
        }
      });
      let peak = rssMb(child.pid as number);
      for (let k = 0; k < EVENTS; k++) {
        const dir = dirs[k % SESSIONS] as string;
        sent.set(k, performance.now());
        appendFileSync(join(dir, 'events.ndjson'), `${JSON.stringify({ type: 'tool_use', id: `t${k}`, name: 'Bash', input: { command: `echo mark-${k}` }, ts: new Date().toISOString() })}\n`);
        // ~25 events a second across the fleet, several lines per session and second.
        await new Promise((r) => setTimeout(r, 40));
        if (k % 10 === 0) peak = Math.max(peak, rssMb(child.pid as number));
      }
      await new Promise((r) => setTimeout(r, 1000));
      peak = Math.max(peak, rssMb(child.pid as number));
      res.destroy();
      const sorted = [...lat].sort((a, b) => a - b);
      const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? NaN;
      const met = lat.length >= EVENTS * 0.95 && p95 < 300 && peak < 150;
      return { name: this.name, unit: 'ms', ours: lat, baseline: [], goal: 'p95 < 300 ms; RSS < 150 MB', met, ratio: NaN, notes: `${lat.length}/${EVENTS} events seen; p50 ${median(lat).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms (goal 300); peak RSS ${peak.toFixed(0)} MB (goal 150)` };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(home, { recursive: true, force: true });
    }
  },
};
