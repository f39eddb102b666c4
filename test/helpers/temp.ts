import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

/** Folders created by this test file's helpers, removed after its last test (test/setup/cleanup.ts). */
const created = new Set<string>();

/** Registers a folder (or file) the test created, so it is removed when the test file ends. */
export function track<T extends string>(path: T): T {
  created.add(path);
  return path;
}

/**
 * Removes everything registered with {@link track}. A folder an agent made read-only (chmod -w, git
 * objects) is made writable first; what still cannot go is returned, never thrown past the tests.
 */
export function removeTracked(): string[] {
  const failed: string[] = [];
  for (const path of created) {
    try {
      rmSync(path, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      try {
        execFileSync('chmod', ['-R', 'u+rwX', '--', path], { stdio: 'ignore' });
        rmSync(path, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        failed.push(path);
      }
    }
    created.delete(path);
  }
  return failed;
}
