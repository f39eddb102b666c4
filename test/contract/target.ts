/**
 * What the provider contract suite needs to know about one provider under test, and the small
 * helpers its cases share. Which cases apply is decided by the provider's capabilities and optional
 * methods (reconnect, followLog, diagnose), never by its name.
 */
import { randomBytes } from 'node:crypto';
import { createSandboxDir } from '../../src/core/sandbox-dir.js';
import { execCollect, type ExecHandle, type SandboxHandle, type SandboxProvider, type SandboxSpec } from '../../src/providers/provider.js';

/** One provider under test. */
export interface ContractTarget {
  /** A fresh provider instance; a second instance stands for another CLI process (reconnect). */
  make(): SandboxProvider;
  /**
   * Takes a live sandbox down from outside (its container killed, the cloud sandbox ended), for the
   * `diagnose` case. Without it that case is skipped.
   */
  takeDown?(sandbox: SandboxHandle): Promise<void>;
  /**
   * The provider's streamed stdout is decoded text (E2B's SDK callbacks): byte-exact binary output
   * is then only promised with `collect` (ExecRequest.collect says so); streamed output is checked
   * with a UTF-8 payload instead. Not a capability of the provider port (yet): see the report.
   */
  textStreams?: boolean;
  /**
   * Streamed stdout travels as text lines that cannot hold a NUL byte (Daytona's session log is
   * written by a shell `read` loop): the streamed text payload is checked without NULs.
   */
  streamDropsNul?: boolean;
}

/** A new sandbox of the target with the spec it was created from (a sandbox folder for local ones). */
export interface Box {
  provider: SandboxProvider;
  sandbox: SandboxHandle;
  spec: SandboxSpec;
}

/** Creates a sandbox the way the orchestrator does: local providers get a fresh sandbox folder. */
export async function createBox(provider: SandboxProvider): Promise<Box> {
  const sessionId = randomBytes(4).toString('hex');
  const spec: SandboxSpec = {
    sessionId,
    ...(provider.capabilities.localFilesystem ? { sandboxDir: await createSandboxDir(process.env) } : {}),
    bridges: {},
    labels: { 'parallel-cc.session': sessionId, 'parallel-cc.contract': '1' },
    lifetimeMinutes: 10,
  };
  return { provider, spec, sandbox: await provider.create(spec) };
}

/** Runs `sh -c script` in the sandbox's workdir and returns stdout as text; fails on a non-zero exit. */
export async function sh(box: Box, script: string, ...args: string[]): Promise<string> {
  const r = await execCollect(box.provider, box.sandbox, { argv: ['sh', '-c', script, 'sh', ...args] });
  if (r.exitCode !== 0) throw new Error(`sh -c ${script} failed (exit ${String(r.exitCode)}, ${String(r.signal)}): ${r.stderr}`);
  return r.stdout.toString('utf8');
}

/** Everything a command prints, streamed (no collect), with its exit. */
export async function drain(handle: ExecHandle): Promise<{ stdout: Buffer; stderr: string; exitCode: number | null; signal: string | null }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for await (const c of handle) (c.stream === 'stdout' ? out : err).push(c.data);
  return { ...(await handle.wait()), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
}

/** Polls `check` until it is true (every 100 ms, at most `ms`); fails with `what` otherwise. */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `work`, or a failure naming `what` once `ms` have passed without it. */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A byte count of a file in the workdir (0 when it does not exist). */
export async function sizeOf(box: Box, name: string): Promise<number> {
  return Number((await sh(box, 'if [ -e "$1" ]; then wc -c < "$1"; else echo 0; fi', name)).trim());
}
