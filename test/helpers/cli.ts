import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds before running vitest). */
export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

/** Output of one CLI run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI asynchronously (the model server runs in the test process, so never spawnSync). */
export function startCli(args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv; input?: string }): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdin?.end(opts.input);
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv; input?: string }): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** Parses NDJSON output, failing on any line that is not a JSON object. */
export function parseNdjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const v: unknown = JSON.parse(l);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`not a JSON object: ${l}`);
      return v as Record<string, unknown>;
    });
}

/** The `summary` of a run's `--json` stream ({} when it has none). */
export function summaryOf(stdout: string): Record<string, unknown> {
  return (parseNdjson(stdout).find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
}
