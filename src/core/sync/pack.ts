import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { UploadSource } from '../../providers/provider.js';

/**
 * The files of an upload plan as one gzip-compressed tarball, produced as a stream: files are read
 * one at a time while the consumer (an HTTP upload) pulls, so memory stays flat whatever the size.
 * Regular files keep their executable bit, symlinks stay symlinks; nothing outside the plan is read.
 * `onProgress` reports bytes of file content packed so far.
 */
export function packTarGz(source: UploadSource, onProgress?: (packed: number) => void): Readable {
  const pack = tar.pack();
  const gzip = createGzip({ level: 6 });
  let packed = 0;
  const fill = async (): Promise<void> => {
    for (const f of source.files) {
      const abs = join(source.root, f.path);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) {
        pack.entry({ name: f.path, type: 'symlink', linkname: await readlink(abs), mode: 0o777 });
        continue;
      }
      if (!st.isFile()) continue;
      const entry = pack.entry({ name: f.path, type: 'file', size: st.size, mode: st.mode & 0o111 ? 0o755 : 0o644, mtime: st.mtime });
      const read = createReadStream(abs);
      // Counted as the bytes flow, so one large file reports its progress too.
      read.on('data', (chunk) => {
        packed += chunk.length;
        onProgress?.(packed);
      });
      await pipeline(read, entry);
    }
    pack.finalize();
  };
  fill().catch((e: unknown) => pack.destroy(e as Error));
  pack.on('error', (e) => gzip.destroy(e));
  return pack.pipe(gzip);
}
