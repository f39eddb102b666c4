/**
 * The file and lifecycle half of the provider contract: an upload lands exactly (odd names,
 * symlinks inside the tree, executable bits, empty files) and downloads back byte-exact; destroy is
 * idempotent and leaves nothing of what create made.
 */
import { mkdirSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import type { UploadSource } from '../../src/providers/provider.js';
import { tempDir } from '../helpers/git-repo.js';
import { createBox, sh, type Box, type ContractTarget } from './target.js';

const FILES: Record<string, { data: Buffer; exec?: boolean }> = {
  'plain.txt': { data: Buffer.from('plain\n') },
  empty: { data: Buffer.alloc(0) },
  'run me.sh': { data: Buffer.from('#!/bin/sh\necho ran\n'), exec: true },
  '-leading-dash': { data: Buffer.from('dash\n') },
  'quote\'s "double" $HOME `x`.txt': { data: Buffer.from('quotes\n') },
  'dir with space/ünïcødé ☃.txt': { data: Buffer.from('unicode ☃\n') },
  'tab\there': { data: Buffer.from('tab\n') },
  'deep/a/b/c/all-bytes.bin': { data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
};
const LINKS: Record<string, string> = { 'link-to-plain': 'plain.txt', 'deep/a/up': '../../plain.txt', dangling: 'no-such-file', 'dir link': 'dir with space' };

/** Writes the fixture tree under a fresh temp folder and returns it as an upload plan. */
function sourceTree(): UploadSource {
  const root = tempDir('pcc-contract-src-');
  const files: UploadSource['files'][number][] = [];
  for (const [path, f] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), f.data);
    chmodSync(join(root, path), f.exec ? 0o755 : 0o644);
    files.push({ path, kind: 'file', size: f.data.length });
  }
  for (const [path, to] of Object.entries(LINKS)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(to, join(root, path));
    files.push({ path, kind: 'symlink', size: 0 });
  }
  return { root, files };
}

// One line per path, NUL-separated fields: kind, executable, size, link target.
const DESCRIBE = 'for p in "$@"; do if [ -L "$p" ]; then printf "%s\\0link\\0%s\\n" "$p" "$(readlink "$p")"; elif [ -f "$p" ]; then printf "%s\\0file\\0%s\\0%s\\n" "$p" "$(test -x "$p" && echo x || echo -)" "$(wc -c < "$p" | tr -d " ")"; else printf "%s\\0missing\\n" "$p"; fi; done';

/** Registers the file and lifecycle cases; `shared()` is the suite's long-lived sandbox. */
export function fileCases(target: ContractTarget, shared: () => Box): void {
  it('upload → download round trip: odd names, symlinks inside, executable bits, empty files', async () => {
    const box = shared();
    const source = sourceTree();
    const sent = await box.provider.upload(box.sandbox, source);
    expect(sent).toEqual({ files: source.files.length, bytes: Object.values(FILES).reduce((n, f) => n + f.data.length, 0) });
    const paths = source.files.map((f) => f.path);
    const seen = (await sh(box, DESCRIBE, ...paths)).split('\n').filter(Boolean).map((l) => l.split('\0'));
    const want = [
      ...Object.entries(FILES).map(([p, f]) => [p, 'file', f.exec ? 'x' : '-', String(f.data.length)]),
      ...Object.entries(LINKS).map(([p, to]) => [p, 'link', to]),
    ];
    expect(seen).toEqual(want);
    for (const [path, f] of Object.entries(FILES)) {
      const back = await box.provider.download(box.sandbox, `${box.sandbox.workdir}/${path}`);
      expect(back.equals(f.data), path).toBe(true);
    }
    expect(await sh(box, './"run me.sh"')).toBe('ran\n');
    await sh(box, 'rm -rf -- "$@"', ...paths, 'deep', 'dir with space');
  });

  it('download of a missing file fails', async () => {
    const box = shared();
    await expect(box.provider.download(box.sandbox, `${box.sandbox.workdir}/no-such-file-pcc`)).rejects.toThrow();
  });

  it('destroy is idempotent and removes what create made', async () => {
    const box = await createBox(target.make());
    await sh(box, 'echo x > made-by-contract');
    await box.provider.destroy(box.sandbox);
    await box.provider.destroy(box.sandbox);
    if (box.spec.sandboxDir) expect(existsSync(box.spec.sandboxDir)).toBe(false);
    const other = target.make();
    if (other.reconnect) expect(await other.reconnect(box.sandbox.id, { sessionId: box.spec.sessionId, ...(box.spec.sandboxDir ? { sandboxDir: box.spec.sandboxDir } : {}) })).toBeUndefined();
    if (other.listSandboxes) expect((await other.listSandboxes()).filter((s) => s.id === box.sandbox.id && s.running)).toEqual([]);
  });
}
