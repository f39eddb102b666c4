import { join } from 'node:path';
import { copyEntry } from '../../core/worktree.js';
import type { UploadSource } from '../provider.js';

/**
 * Copies an upload plan into a sandbox folder on this machine (native and docker bind-mount their
 * workspace from the host). A few copies in flight: the files are many and small, and this keeps
 * the disk busy without opening thousands of descriptors at once.
 */
export async function copyIntoWorkspace(workspace: string, source: UploadSource): Promise<{ files: number; bytes: number }> {
  let bytes = 0;
  const queue = [...source.files];
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      await copyEntry(join(source.root, f.path), join(workspace, f.path));
      bytes += f.size;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { files: source.files.length, bytes };
}
