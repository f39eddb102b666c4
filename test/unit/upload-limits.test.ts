import { describe, expect, it } from 'vitest';
import { checkUploadLimits, collectPastLimit } from '../../src/core/run-steps.js';
import type { SandboxProvider } from '../../src/providers/provider.js';
import { AppError } from '../../src/errors.js';

const provider = (uploadLimits?: { maxBytes: number; maxFiles: number }): SandboxProvider => ({ name: 'e2b', capabilities: { localFilesystem: false, egressControlled: false, survivesCli: true, resourceLimits: false, ...(uploadLimits ? { uploadLimits } : {}) } }) as unknown as SandboxProvider;
const plan = (files: number, totalBytes: number): Parameters<typeof checkUploadLimits>[1] => ({ root: '/r', files: Array.from({ length: files }, (_, i) => ({ path: `f${i}`, kind: 'file' as const, size: 1 })), totalBytes });
const LIMITS = { maxBytes: 500_000_000, maxFiles: 100_000 };

describe('checkUploadLimits', () => {
  it('refuses too many files and too many bytes, naming both, as a usage error with the .e2bignore hint', () => {
    const err = (() => {
      try {
        checkUploadLimits(provider(LIMITS), plan(100_001, 600_000_000));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('usage');
    expect((err as AppError).message).toBe('the upload to e2b is too big: 600.0 MB (the limit is 500.0 MB) and 100,001 files (the limit is 100,000)');
    expect((err as AppError).hint).toMatch(/\.e2bignore/);
  });

  it('accepts a plan at the limits and any plan of a provider without limits', () => {
    expect(() => checkUploadLimits(provider(LIMITS), plan(100_000, 500_000_000))).not.toThrow();
    expect(() => checkUploadLimits(provider(), plan(200_000, 9e9))).not.toThrow();
  });
});

describe('collecting past the process limit', () => {
  it('tries again only while the sandbox sat at its process limit, and gives up with the last error', async () => {
    let calls = 0;
    const flaky = (): Promise<Buffer> => {
      calls += 1;
      return calls < 3 ? Promise.reject(new Error('sh: 3: Cannot fork')) : Promise.resolve(Buffer.from('series'));
    };
    expect((await collectPastLimit(flaky, true, 5, 1)).toString()).toBe('series');
    expect(calls).toBe(3);
    calls = 0;
    await expect(collectPastLimit(flaky, false, 5, 1)).rejects.toThrow(/Cannot fork/);
    expect(calls).toBe(1);
    calls = -10;
    await expect(collectPastLimit(flaky, true, 2, 1)).rejects.toThrow(/Cannot fork/);
    expect(calls).toBe(-8);
  });
});
