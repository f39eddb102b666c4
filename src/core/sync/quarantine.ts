import { constants as fsc } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gitRunner, type GitRunner } from './git-tree.js';

/** A scratch repository whose new objects stay apart from the host's until they are judged. */
export interface Quarantine {
  dir: string;
  g: GitRunner;
  /** Copies the quarantined objects into the host's object store (after the trees were judged). */
  migrate(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * As git does: writes a temporary file, then links it into place, so that a concurrent import
 * (another --multi task with the same objects) never sees a half-written object or pack.
 */
async function place(from: string, dir: string, name: string): Promise<void> {
  const tmp = join(dir, `tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`);
  await copyFile(from, tmp, fsc.COPYFILE_EXCL);
  try {
    await link(tmp, join(dir, name)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e; // the same content under the same name: already there
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Creates a bare scratch repository under `parent` that reads the host's objects (alternates) but
 * writes its own, with an index of its own and only the config `git init` writes: neither the host
 * repo's config nor the user's can change how a series is applied.
 */
export async function openQuarantine(parent: string, hostObjects: string): Promise<Quarantine> {
  const dir = await mkdtemp(join(parent, 'import-'));
  const gitDir = join(dir, 'repo.git');
  const g = gitRunner(gitDir, { GIT_INDEX_FILE: join(dir, 'index') });
  await g(['init', '--quiet', '--bare', '--template=', gitDir]);
  await mkdir(join(gitDir, 'objects', 'info'), { recursive: true });
  await writeFile(join(gitDir, 'objects', 'info', 'alternates'), `${hostObjects}\n`);
  const objects = join(gitDir, 'objects');
  return {
    dir,
    g,
    async migrate() {
      for (const fan of await readdir(objects)) {
        if (!/^[0-9a-f]{2}$/.test(fan)) continue;
        await mkdir(join(hostObjects, fan), { recursive: true });
        for (const name of await readdir(join(objects, fan))) await place(join(objects, fan, name), join(hostObjects, fan), name);
      }
      // Packs (fast-import writes one): the .pack before its .idx, as git finds a pack by its index.
      const packs = await readdir(join(objects, 'pack')).catch(() => [] as string[]);
      const named = (ext: string): string[] => packs.filter((n) => /^pack-[0-9a-f]{40,64}\./.test(n) && n.endsWith(ext));
      if (packs.length > 0) await mkdir(join(hostObjects, 'pack'), { recursive: true });
      for (const name of [...named('.pack'), ...named('.idx')]) await place(join(objects, 'pack', name), join(hostObjects, 'pack'), name);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
