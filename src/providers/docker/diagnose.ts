import { containerLogs, inspectContainer } from './container-api.js';
import type { Engine } from './engine.js';

/** Docker's log stream without a TTY: 8-byte frame headers (stream, 0, 0, 0, size32) before each chunk. */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Why a session's container is not running, in one line: its exit code, an OOM kill, the daemon's
 * error and the last lines it printed (e.g. docker-init's "exec sleep failed"). Undefined while it
 * still runs or when it cannot be inspected.
 */
export async function whyStopped(engine: Engine, id: string): Promise<string | undefined> {
  const info = await inspectContainer(engine, id).catch(() => undefined);
  if (!info || info.State.Running) return undefined;
  const logs = await containerLogs(engine, id, 3)
    .then((b) => demuxLogs(b))
    .catch(() => '');
  const bits = [
    `exit code ${info.State.ExitCode}`,
    ...(info.State.OOMKilled ? ['killed: out of memory'] : []),
    ...(info.State.Error ? [info.State.Error] : []),
    ...(logs.trim() ? [logs.trim().replace(/\s*\n\s*/g, ' / ')] : []),
  ];
  return `the sandbox container stopped (${bits.join('; ')})`;
}
