/**
 * An emulator's `serve.ts` started as a process of its own (as a user would run it), for the
 * cloud providers' serve tests: its own process group and TMPDIR (so its sandboxes' files can be
 * counted, and a failed test takes tsx, its node and the sandboxes down at once), the `NAME=value`
 * lines it prints, and its stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

/** One started serve.ts. */
export interface Served {
  proc: ChildProcess;
  /** The printed lines, in order. */
  lines: string[];
  vars: Record<string, string>;
  stderr: () => string;
}

/** Registers the clean-up of a serve test file; `start` runs `script` until it printed `count` lines. */
export function useServeProcess(script: string, tmpPrefix: string): { tmp: string; start: (env: NodeJS.ProcessEnv, count: number) => Promise<Served> } {
  const started: ChildProcess[] = [];
  const tmp = mkdtempSync(join(tmpdir(), tmpPrefix));
  afterAll(() => {
    for (const p of started) {
      try {
        process.kill(-(p.pid ?? 0), 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  });
  const path = fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url));
  return {
    tmp,
    start: async (env, count) => {
      const proc = spawn(TSX, [path], { env: { ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      started.push(proc);
      let out = '';
      let err = '';
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      proc.stdout.setEncoding('utf8');
      const exited = once(proc, 'exit').then(() => {
        throw new Error(`${script} exited before printing its variables: ${err}`);
      });
      exited.catch(() => undefined);
      while (out.split('\n').length <= count) out += String(((await Promise.race([once(proc.stdout, 'data'), exited])) as [string])[0]);
      const lines = out.trimEnd().split('\n');
      return { proc, lines, vars: Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])), stderr: () => err };
    },
  };
}
