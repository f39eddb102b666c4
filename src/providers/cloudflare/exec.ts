import { randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import { gunzipSync } from 'node:zlib';
import { GracefulExecHandle } from '../chunk-queue.js';
import type { ExecExit, ExecRequest } from '../provider.js';
import { commandScript, keptLogFiles, killGroupScript, type KeptLogFiles, type ScriptFiles } from '../remote/kept-log.js';
import { shellJoin, shellQuote } from '../remote/quote.js';
import { BRIDGE_ROOT, type BridgeClient, type ExecEvent } from './bridge.js';

/** How often a kept command's broken stream is picked up again before the handle gives up. */
const RESUMES = 5;

/** The provider's private folder inside the sandbox: next to the workdir, readable by the file routes. */
export const STATE_DIR = `${BRIDGE_ROOT}/.parallel-cc`;

/**
 * The home of every command (HOME): below /workspace, because the bridge refuses a `cwd` anywhere
 * else and components are installed from their home folder; the image's own home is not ours to know.
 */
export const HOME_DIR = `${STATE_DIR}/home`;

/** Paths of a kept log (see ExecRequest.logName). */
export function logFiles(name: string): KeptLogFiles {
  return keptLogFiles(STATE_DIR, name);
}

/** One sandbox as an exec handle sees it: the client, its id, and the keep-alive to hold while it runs. */
export interface BridgeBox {
  client: BridgeClient;
  id: string;
  /** Holds the sandbox awake until the returned function is called. */
  hold(): () => void;
  /** Why the sandbox's container is not the one the session started in (it slept, was destroyed), if it is not. */
  gone(): Promise<string | undefined>;
}

/**
 * The most one exact read may inflate to: the file comes from the container, where the agent can
 * make it compress a thousandfold, so a small download must not become gigabytes in the CLI.
 */
export const MAX_EXACT_BYTES = 2 ** 30;

/** Reads a file byte-exact: gzip-compressed in the sandbox first (the bridge sends text files decoded as UTF-8). */
export async function readExact(box: BridgeBox, path: string, max = MAX_EXACT_BYTES): Promise<Buffer | undefined> {
  const gz = `${STATE_DIR}/${randomBytes(6).toString('hex')}.gz`;
  const done = await runQuiet(box, ['sh', '-c', 'gzip -n -c -- "$1" > "$2"', 'sh', path, gz]);
  if (done !== 0) return undefined;
  try {
    const data = await box.client.readFile(box.id, gz);
    if (!data) return undefined;
    try {
      return gunzipSync(data, { maxOutputLength: max });
    } catch (e) {
      if (e instanceof RangeError) throw new AppError('agent', `${path} in the sandbox is larger than ${max} bytes once decompressed: not read`, { hint: 'Exclude what the agent wrote there, or download smaller files.' });
      throw e;
    }
  } finally {
    await runQuiet(box, ['rm', '-f', '--', gz]).catch(() => undefined);
  }
}

/** Runs a short command of the provider's own plumbing; resolves to its exit code (-1: no exit seen). */
export async function runQuiet(box: BridgeBox, argv: readonly string[]): Promise<number> {
  let code = -1;
  for await (const ev of await box.client.exec(box.id, { argv, cwd: BRIDGE_ROOT })) if (ev.type === 'exit') code = ev.exitCode;
  return code;
}

/**
 * An {@link ExecHandle} over the bridge's exec stream. The bridge takes no stdin and no env: stdin
 * goes up as a file first (redirected by the command script), env vars through a session of the
 * command's own (never its argv), deleted after. Streamed output is the container's UTF-8 decoding,
 * so collect mode writes stdout to a file read back byte-exact. Every command writes its process
 * group id to a file, so `kill` (a second exec) reaches everything it started. A kept command
 * (logName) whose stream breaks — `event: error`, the bridge's idle cut, a dropped connection —
 * is followed on from the byte it had reached, from its kept log, until it ends.
 */
export class CloudflareExecHandle extends GracefulExecHandle {
  protected readonly exit: Promise<ExecExit>;
  private readonly abort = new AbortController();
  private readonly files: ScriptFiles & { pid: string };

  constructor(
    private readonly box: BridgeBox,
    req: ExecRequest & { cwd: string },
    private readonly onError: (e: unknown) => Error,
  ) {
    super();
    const id = randomBytes(6).toString('hex');
    const log = req.logName ? logFiles(req.logName) : undefined;
    this.files = {
      pid: log?.pid ?? `${STATE_DIR}/${id}.pid`,
      ...(req.stdin !== undefined && req.stdin.length > 0 ? { stdin: `${STATE_DIR}/${id}.in` } : {}),
      ...(req.collect && !log ? { stdout: `${STATE_DIR}/${id}.out` } : {}),
      ...(log ? { log } : {}),
    };
    this.exit = this.settle(this.run(req));
  }

  private push(stream: 'stdout' | 'stderr', data: Buffer): void {
    if (data.length > 0) this.out.push({ stream, data });
  }

  /**
   * The script: a kept command is the kit's (it writes its own process group id). Any other one runs
   * as a background job of a shell with job control: a process group of its own whose id it writes
   * down, and `wait` reports a death by signal as 128+n (setsid -w would not: the bridge's shell may
   * already lead a session, and then setsid's child's signal turns into a bare exit code). The
   * shell's own job notices go to /dev/null, the command's stderr to the stream.
   */
  private script(argv: readonly string[], env: Record<string, string> = {}): string {
    // The command's own HOME (its session's env) wins over the provider's default.
    const home = env.HOME ? '' : `export HOME=${shellQuote(HOME_DIR)}; `;
    if (this.files.log) return home + commandScript(argv, this.files);
    const input = `< ${shellQuote(this.files.stdin ?? '/dev/null')}`;
    const output = this.files.stdout ? ` > ${shellQuote(this.files.stdout)}` : '';
    return `${home}exec 3>&2 2>/dev/null; set -m; bash -c 'echo $$ > "$0"; exec "$@"' ${shellJoin([this.files.pid, ...argv])} ${input}${output} 2>&3 3>&- & wait $!`;
  }

  private async run(req: ExecRequest & { cwd: string }): Promise<ExecExit> {
    const { client, id } = this.box;
    const release = this.box.hold();
    let session: string | undefined;
    try {
      if (this.files.stdin && req.stdin !== undefined) await client.writeFile(id, this.files.stdin, typeof req.stdin === 'string' ? Buffer.from(req.stdin, 'utf8') : req.stdin);
      if (req.env && Object.keys(req.env).length > 0) session = await client.createSession(id, { cwd: req.cwd, env: req.env });
      if (this.killed) return { exitCode: 137, signal: 'SIGKILL' };
      const events = await client.exec(id, { argv: ['bash', '-c', this.script(req.argv, req.env)], cwd: req.cwd, ...(session ? { sessionId: session } : {}) }, this.abort.signal);
      let { exitCode, broke, bytes } = await this.drain(events, 0);
      for (let n = 0; broke !== undefined && this.files.log && !this.killed && n < RESUMES; n++) {
        // A container that slept took the command with it: nothing to follow any more.
        const gone = await this.box.gone().catch(() => undefined);
        if (gone) {
          broke = new Error(gone);
          break;
        }
        ({ exitCode, broke, bytes } = await this.resume(this.files.log, bytes));
      }
      if (this.killed) return { exitCode: 137, signal: 'SIGKILL' };
      if (broke !== undefined) {
        this.push('stderr', Buffer.from(`${this.onError(broke).message}\n`));
        return { exitCode: 125, signal: null };
      }
      if (this.files.stdout) this.push('stdout', (await readExact(this.box, this.files.stdout)) ?? Buffer.alloc(0));
      return { exitCode, signal: null };
    } catch (e) {
      if (!this.killed) this.push('stderr', Buffer.from(`${this.onError(e).message}\n`));
      return { exitCode: this.killed ? 137 : 125, signal: this.killed ? 'SIGKILL' : null };
    } finally {
      release();
      const leftovers = [this.files.stdin, this.files.stdout, this.files.log ? undefined : this.files.pid].filter((p): p is string => p !== undefined);
      await runQuiet(this.box, ['rm', '-f', '--', ...leftovers]).catch(() => undefined);
      if (session) await client.deleteSession(id, session).catch(() => undefined);
    }
  }

  /** Reads a stream to its end: the exit code, or why it broke, and how many stdout bytes arrived. */
  private async drain(events: AsyncIterable<ExecEvent>, from: number): Promise<{ exitCode: number | null; broke?: Error; bytes: number }> {
    let bytes = from;
    try {
      for await (const ev of events) {
        if (ev.type === 'exit') return { exitCode: ev.exitCode, bytes };
        if (ev.type !== 'error') {
          if (ev.type === 'stdout') bytes += ev.data.length;
          this.push(ev.type, ev.data);
        } else return { exitCode: null, broke: Object.assign(new Error(`the bridge ended the command's stream: ${ev.error}`), { code: ev.code }), bytes };
      }
      return { exitCode: null, broke: new Error("the bridge's stream ended before the command did"), bytes };
    } catch (e) {
      return { exitCode: null, broke: e instanceof Error ? e : new Error(String(e)), bytes };
    }
  }

  /** Follows a kept command on from byte `bytes` of its log until it ends; then its recorded exit code. */
  private async resume(log: KeptLogFiles, bytes: number): Promise<{ exitCode: number | null; broke?: Error; bytes: number }> {
    const follow = 'pid=$(cat "$1" 2>/dev/null); if [ -n "$pid" ]; then exec tail -c "+$2" --pid="$pid" -F "$3" 2>/dev/null; else exec tail -c "+$2" "$3"; fi';
    try {
      const events = await this.box.client.exec(this.box.id, { argv: ['sh', '-c', follow, 'sh', log.pid, String(bytes + 1), log.out], cwd: BRIDGE_ROOT }, this.abort.signal);
      const r = await this.drain(events, bytes);
      if (r.broke) return r;
      const code = Number((await readExact(this.box, log.exit))?.toString('utf8').trim() ?? 'x');
      return { exitCode: Number.isInteger(code) ? code : null, bytes: r.bytes };
    } catch (e) {
      return { exitCode: null, broke: e instanceof Error ? e : new Error(String(e)), bytes };
    }
  }

  protected async stop(): Promise<void> {
    await runQuiet(this.box, ['bash', '-c', killGroupScript({ pidFile: this.files.pid })]).catch(() => undefined);
  }

  protected override gaveUp(): void {
    this.abort.abort();
  }
}
