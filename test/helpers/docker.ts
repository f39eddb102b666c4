import { execFileSync } from 'node:child_process';

/** The image the docker tests use (built by scripts/build-test-image.sh, which .ci/run calls). */
export const DOCKER_TEST_IMAGE = 'parallel-cc-agent:latest';

/** True when a docker daemon answers and the test image exists; docker tests skip (saying so) otherwise. */
export function dockerReady(): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', DOCKER_TEST_IMAGE], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    process.stderr.write(`docker tests skipped: no docker daemon or no ${DOCKER_TEST_IMAGE} image (run scripts/build-test-image.sh)\n`);
    return false;
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
