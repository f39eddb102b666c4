import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real sandboxes and the real claude binary; the machine has 2 cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Every test file removes the temp folders its helpers made; the run fails if anything is left.
    setupFiles: ['test/setup/cleanup.ts'],
    globalSetup: ['test/setup/leak-check.ts'],
  },
});
