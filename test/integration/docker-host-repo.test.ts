/**
 * The docker run's sandbox repo is made on the host while the container starts (issue 26): the
 * workspace is a bind mount that only our upload is in, so the host runs the same sealed init
 * script there. Everything must then belong to the container's sandbox user — handed over before
 * the first command, without following a link out of the workspace — and the host never works in
 * the workspace again once a command ran.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { initSandboxRepo } from '../../src/core/sandbox-repo.js';
import { AGENT_UID } from '../../src/providers/docker/container-spec.js';
import { DockerProvider } from '../../src/providers/docker/index.js';
import { execCollect } from '../../src/providers/provider.js';
import { dockerReady, DOCKER_TEST_IMAGE, leftoverContainers } from '../helpers/docker.js';
import { tempDir, writeFiles } from '../helpers/git-repo.js';

const READY = dockerReady();
const config = { ...ConfigSchema.parse({}).providers.docker, image: DOCKER_TEST_IMAGE };
const ROOT = process.getuid?.() === 0;

describe.skipIf(!READY)('docker: the sandbox repo made on the host', () => {
  // Only as root is there anything to hand over (otherwise the container runs as you).
  it.skipIf(!ROOT)('is the sandbox user’s before the first command (the agent user commits), links are chowned themselves and never followed', async () => {
    const provider = new DockerProvider(process.env, config);
    const id = `t${randomBytes(4).toString('hex')}`;
    const sandbox = await provider.create({ sessionId: id, sandboxDir: tempDir('pcc-hr-box-'), bridges: {}, labels: { 'parallel-cc.session': id } });
    try {
      // Host files outside the workspace, each reached through a link of the upload.
      const outside = tempDir('pcc-hr-outside-');
      writeFiles(outside, { 'secret.txt': 'host\n', 'dir/inner.txt': 'x\n' });
      const src = tempDir('pcc-hr-src-');
      writeFiles(src, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
      symlinkSync(join(outside, 'secret.txt'), join(src, 'link-file'));
      symlinkSync(join(outside, 'dir'), join(src, 'link-dir'));
      const files = [
        { path: 'a.txt', kind: 'file' as const, size: 2 },
        { path: 'sub/b.txt', kind: 'file' as const, size: 2 },
        { path: 'link-file', kind: 'symlink' as const, size: 0 },
        { path: 'link-dir', kind: 'symlink' as const, size: 0 },
      ];
      await provider.upload(sandbox, { root: src, files });
      const workspace = provider.hostWorkdir(sandbox);
      expect(workspace).toBeDefined();
      const start = await initSandboxRepo(provider, sandbox, { identity: { name: 'T', email: 't@example.com' }, baseLabel: 'base', onlyUploaded: true });
      const ws = workspace as string;
      // Made by the host, before any command: still root's, in a workspace still root's.
      expect(lstatSync(join(ws, '.git', 'HEAD')).uid).toBe(0);
      expect(lstatSync(ws).uid).toBe(0);

      const r = await execCollect(provider, sandbox, {
        argv: ['sh', '-c', 'id -u; git rev-parse HEAD; echo n > n.txt && git add -A && git -c user.name=A -c user.email=a@example.com commit -qm n && git rev-list --count HEAD'],
      });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.toString().trim().split('\n')).toEqual([String(AGENT_UID), start, '2']);
      // Handed over with lchown: the workspace, the repo and the links are the sandbox user's…
      for (const p of ['.', '.git', '.git/HEAD', '.git/objects', 'a.txt', 'sub', 'sub/b.txt', 'link-file', 'link-dir']) expect([p, lstatSync(join(ws, p)).uid]).toEqual([p, AGENT_UID]);
      // …and what they point at on the host is untouched.
      for (const p of ['.', 'secret.txt', 'dir', 'dir/inner.txt']) expect([p, statSync(join(outside, p)).uid]).toEqual([p, 0]);
      // A command ran: from now on the workspace is the agent's, and the host does not work in it.
      expect(provider.hostWorkdir(sandbox)).toBeUndefined();
    } finally {
      await provider.destroy(sandbox);
    }
    expect(leftoverContainers([id])).toEqual([]);
  });
});
