/**
 * setupFiles: after each test file, remove every temp folder its helpers created (tempDir, makeRepo
 * and whatever else called track()). Registered before the file's own hooks, so it runs after them
 * (hooks run as a stack): model servers and sandboxes are stopped first.
 */
import { afterAll } from 'vitest';
import { removeTracked } from '../helpers/temp.js';

afterAll(() => {
  const failed = removeTracked();
  if (failed.length > 0) throw new Error(`could not remove test folders: ${failed.join(', ')}`);
});
