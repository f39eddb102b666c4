/** The provider contract against docker (a real dockerd and the test image). */
import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DockerProvider } from '../../src/providers/docker/index.js';
import { dockerReady, DOCKER_TEST_IMAGE } from '../helpers/docker.js';
import { providerContract } from './provider-contract.js';

const config = { ...ConfigSchema.parse({}).providers.docker, image: DOCKER_TEST_IMAGE };

describe.skipIf(!dockerReady())('docker', () => {
  providerContract('docker', {
    make: () => new DockerProvider(process.env, config),
    takeDown: (sandbox) => {
      execFileSync('docker', ['kill', sandbox.id], { stdio: 'ignore' });
      return Promise.resolve();
    },
  });
});
