import { Readable } from 'node:stream';
import { packTarGz } from '../../core/sync/pack.js';
import type { UploadOptions, UploadSource } from '../provider.js';

/** What {@link streamedUpload} needs from a vendor: write a stream to a file, run a command to completion. */
export interface UploadPrimitives {
  /** Writes the stream to `path` inside the sandbox; throws (a mapped AppError) when it cannot. */
  write(path: string, data: Readable): Promise<void>;
  /** Runs a command to completion; throws when it fails. */
  run(argv: string[]): Promise<unknown>;
}

/** The command that unpacks an upload into the workspace (owned by the sandbox user, not by the archive). */
export function extractArgv(tarball: string, workdir: string): string[] {
  return ['tar', '-xzf', tarball, '-C', workdir, '--no-same-owner'];
}

/**
 * Uploads the working state as one tar.gz streamed while it is packed (no archive on the host's
 * disk, one request to the vendor), unpacks it into `workdir` and removes it. Progress counts
 * packed bytes of `total`.
 */
export async function streamedUpload(vendor: UploadPrimitives, source: UploadSource, where: { stateDir: string; workdir: string }, opts: UploadOptions = {}): Promise<{ files: number; bytes: number }> {
  const total = source.files.reduce((n, f) => n + f.size, 0);
  const tarball = `${where.stateDir}/upload.tar.gz`;
  const stream = packTarGz(source, (packed) => opts.onProgress?.(packed, total));
  try {
    await vendor.write(tarball, stream);
  } catch (e) {
    stream.destroy();
    throw e;
  }
  await vendor.run(extractArgv(tarball, where.workdir));
  await vendor.run(['rm', '-f', tarball]);
  return { files: source.files.length, bytes: total };
}

/** A Node stream as the web ReadableStream most vendor SDKs take. */
export function webStream(data: Readable): ReadableStream {
  return Readable.toWeb(data);
}
