import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxHandle, SandboxProvider } from '../../providers/provider.js';
import { openQuarantine } from './quarantine.js';
import { objectStore } from './results.js';

/** The only ref a history bundle names: the sandbox repo's own branch name, nothing of the host's. */
const BUNDLE_REF = 'refs/heads/parallel-cc/work';

/**
 * `--upload-repo`: writes a git bundle of `commit`'s whole ancestry (made in a scratch repository
 * reading the host's objects, so the host repo gets no ref, and the bundle names none of its
 * branches) and uploads it into the sandbox's workdir under a random name. Returns that name; the
 * sandbox repo's init unbundles and deletes it before anything else runs there.
 */
export async function uploadHistory(provider: SandboxProvider, sandbox: SandboxHandle, opts: { worktreePath: string; commit: string; scratchDir: string }): Promise<string> {
  const q = await openQuarantine(opts.scratchDir, await objectStore(opts.worktreePath));
  try {
    await q.g(['update-ref', BUNDLE_REF, opts.commit]);
    const name = `.parallel-cc-history-${randomBytes(6).toString('hex')}.bundle`;
    await q.g(['bundle', 'create', '--quiet', join(q.dir, name), BUNDLE_REF]);
    await provider.upload(sandbox, { root: q.dir, files: [{ path: name, kind: 'file', size: (await stat(join(q.dir, name))).size }] });
    return name;
  } finally {
    await q.remove();
  }
}
