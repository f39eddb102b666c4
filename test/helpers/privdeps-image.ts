import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DOCKER_TEST_IMAGE } from './docker.js';
import { tempDir } from './git-repo.js';

/** The test image plus this machine's npm and OpenSSH client (the private-dependency tests need both). */
export const PRIVDEPS_IMAGE = 'parallel-cc-test-privdeps:latest';

/**
 * Builds {@link PRIVDEPS_IMAGE} from the test image: npm (its folder and the /usr/bin/npm link) and
 * ssh with the libraries it links against are copied in with `docker cp` into a created container,
 * then committed. No registry is needed.
 */
export function buildPrivDepsImage(): void {
  const stage = tempDir('pcc-pd-image-');
  const npmDir = dirname(dirname(realpathSync('/usr/bin/npm')));
  cpSync(npmDir, join(stage, npmDir), { recursive: true });
  mkdirSync(join(stage, 'usr/bin'), { recursive: true });
  symlinkSync(`..${npmDir.slice('/usr'.length)}/bin/npm-cli.js`, join(stage, 'usr/bin/npm'));
  const ssh = realpathSync('/usr/bin/ssh');
  const libs = execFileSync('ldd', [ssh], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /=>\s+(\/\S+)/.exec(l)?.[1] ?? /^\s*(\/\S+)/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
  for (const f of [ssh, ...libs]) {
    const real = realpathSync(f);
    mkdirSync(join(stage, dirname(real)), { recursive: true });
    cpSync(real, join(stage, real));
    // The loader finds libraries by their soname (the link's name), not the versioned file.
    if (real !== f && !f.startsWith('/lib64/')) cpSync(real, join(stage, dirname(real), f.split('/').pop() as string));
  }
  const id = execFileSync('docker', ['create', DOCKER_TEST_IMAGE, 'true'], { encoding: 'utf8' }).trim();
  try {
    const tar = execFileSync('tar', ['-C', stage, '-cf', '-', 'usr'], { maxBuffer: 1 << 30 });
    execFileSync('docker', ['cp', '-', `${id}:/`], { input: tar, stdio: ['pipe', 'ignore', 'inherit'] });
    execFileSync('docker', ['commit', id, PRIVDEPS_IMAGE], { stdio: 'ignore' });
  } finally {
    execFileSync('docker', ['rm', id], { stdio: 'ignore' });
  }
}
