import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The image the docker tests use (built by scripts/build-test-image.sh, which .ci/run calls). */
export const DOCKER_TEST_IMAGE = 'parallel-cc-agent:latest';
const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-test-image.sh', import.meta.url));

/**
 * True when a docker daemon answers. Docker tests skip (saying so) only when there is no daemon: with
 * one, a missing or outdated test image is built here (the script is a no-op when it is current), and
 * a failed build fails the suite instead of hiding it behind a skip.
 */
export function dockerReady(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    process.stderr.write('docker tests SKIPPED: no docker daemon is reachable (run scripts/start-dockerd.sh, or check DOCKER_HOST)\n');
    return false;
  }
  execFileSync('bash', [BUILD_SCRIPT, DOCKER_TEST_IMAGE], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  return true;
}

/**
 * Builds `name` from the test image minus some files (`docker export` | tar --delete | `docker
 * import`), e.g. without node (only the host's node, mounted by the provider, can run parallel-cc's
 * helpers) or without sleep (the container cannot start).
 */
export function buildImageWithout(name: string, paths: string[]): void {
  const id = execFileSync('docker', ['create', DOCKER_TEST_IMAGE, 'true'], { encoding: 'utf8' }).trim();
  try {
    const tar = execFileSync('docker', ['export', id], { maxBuffer: 1 << 30 });
    const stripped = execFileSync('tar', ['--delete', '-f', '-', ...paths], { input: tar, maxBuffer: 1 << 30 });
    execFileSync('docker', ['import', '--change', 'USER 1000:1000', '--change', 'WORKDIR /workspace', '--change', 'ENV PATH=/usr/local/bin:/usr/bin:/bin', '-', name], {
      input: stripped,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
  } finally {
    execFileSync('docker', ['rm', id], { stdio: 'ignore' });
  }
}

/** Names of the containers of these sessions still on the daemon (any state). */
export function leftoverContainers(sessionIds: string[]): string[] {
  return sessionIds.flatMap((id) =>
    execFileSync('docker', ['ps', '-a', '--filter', `label=parallel-cc.session=${id}`, '--format', '{{.Names}}'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean),
  );
}

/** The labels of one container. */
export function containerLabels(name: string): Record<string, string> {
  return JSON.parse(execFileSync('docker', ['inspect', '--format', '{{json .Config.Labels}}', name], { encoding: 'utf8' })) as Record<string, string>;
}
