import ignore, { type Ignore } from 'ignore';
import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gitRaw, splitZ } from '../git.js';

/**
 * Files that never go into a sandbox, whatever .gitignore says (gitignore syntax). Keys, certificates,
 * cloud and package-registry credentials, dotenv files.
 */
export const SECRET_PATTERNS: readonly string[] = [
  '.env*',
  '*.pem',
  '*.key',
  '*.p12',
  '*.pfx',
  '*.keystore',
  '*.jks',
  'credentials.json',
  'service-account.json',
  'id_rsa*',
  'id_dsa*',
  'id_ecdsa*',
  'id_ed25519*',
  '**/.aws/credentials',
  '**/.aws/config',
  '**/.gnupg/',
  '**/.ssh/',
  '**/.docker/config.json',
  '.netrc',
  '.git-credentials',
  '.npmrc',
  '.pypirc',
];

/** Why a file was left out of the upload. */
export type ExclusionReason = 'secret' | 'gitignore' | 'e2bignore' | 'config';

/** One file that goes into the sandbox. */
export interface UploadFile {
  /** Path relative to the root, '/'-separated. */
  path: string;
  size: number;
  kind: 'file' | 'symlink';
}

/** What would be (or was) uploaded from a checkout. */
export interface UploadPlan {
  root: string;
  files: UploadFile[];
  excluded: Array<{ path: string; reason: ExclusionReason }>;
  totalBytes: number;
}

/** Builds the matcher for files that must not be uploaded, with the reason for each pattern set. */
export async function exclusionMatcher(root: string, extra: readonly string[]): Promise<(path: string) => ExclusionReason | undefined> {
  const secret = ignore().add([...SECRET_PATTERNS]);
  let e2b: Ignore | undefined;
  try {
    e2b = ignore().add(await readFile(join(root, '.e2bignore'), 'utf8'));
  } catch {
    e2b = undefined;
  }
  const config = extra.length > 0 ? ignore().add([...extra]) : undefined;
  return (path) => {
    if (secret.ignores(path)) return 'secret';
    if (e2b?.ignores(path)) return 'e2bignore';
    if (config?.ignores(path)) return 'config';
    return undefined;
  };
}

/** The ignored untracked files (or folders) that look like secrets, as exclusions. */
function secretsAmong(ignoredOthers: readonly string[], excludeReason: (path: string) => ExclusionReason | undefined): UploadPlan['excluded'] {
  return ignoredOthers.filter((path) => excludeReason(path.replace(/\/$/, '')) === 'secret').map((path) => ({ path, reason: 'secret' as const }));
}

/**
 * The secrets a checkout keeps home that a worktree made from it never holds: its ignored untracked
 * files that look like secrets (`.env` in .gitignore). Everything else a checkout's plan would
 * exclude is in the session worktree too (its tracked files and working state), so the worktree's
 * own plan lists it: one `git ls-files` instead of a second full plan.
 */
export async function ignoredSecrets(root: string, extraIgnore: readonly string[] = []): Promise<UploadPlan['excluded']> {
  const [ignoredOthers, excludeReason] = await Promise.all([
    gitRaw(root, ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory']).then(splitZ),
    exclusionMatcher(root, extraIgnore),
  ]);
  return secretsAmong(ignoredOthers, excludeReason);
}

/**
 * Plans the upload of a checkout's working state: tracked files plus untracked files that are not
 * ignored, as they are on disk (deleted files are gone, edits included), minus secrets, .e2bignore
 * and configured patterns, minus tracked files that .gitignore matches. Ignored files that look like
 * secrets are listed as excluded too, so `--dry-run` shows the user what stays home.
 */
export async function planUpload(root: string, extraIgnore: readonly string[] = []): Promise<UploadPlan> {
  const [candidates, trackedIgnored, ignoredOthers, excludeReason] = await Promise.all([
    gitRaw(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']).then(splitZ),
    gitRaw(root, ['ls-files', '-z', '--cached', '--ignored', '--exclude-standard']).then(splitZ),
    gitRaw(root, ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory']).then(splitZ),
    exclusionMatcher(root, extraIgnore),
  ]);
  const gitignored = new Set(trackedIgnored);
  const files: UploadFile[] = [];
  const excluded: UploadPlan['excluded'] = [];
  const seen = new Set<string>();
  let statted = 0;
  for (const path of candidates) {
    if (seen.has(path)) continue; // --cached lists a file once per conflict stage
    seen.add(path);
    const reason = excludeReason(path) ?? (gitignored.has(path) ? 'gitignore' : undefined);
    if (reason) {
      excluded.push({ path, reason });
      continue;
    }
    // lstatSync is ~5× faster than a promise per file (10,000 files: ~40 ms against ~200); the
    // loop yields every few thousand so a --multi batch's other sessions keep streaming.
    if (++statted % 2_000 === 0) await new Promise<void>((r) => setImmediate(r));
    const st = lstatSync(join(root, path), { throwIfNoEntry: false });
    if (!st) continue; // deleted in the working tree
    if (st.isSymbolicLink()) files.push({ path, size: 0, kind: 'symlink' });
    else if (st.isFile()) files.push({ path, size: st.size, kind: 'file' });
    // Directories here are submodules (gitlinks): their content is another repository, not uploaded.
  }
  excluded.push(...secretsAmong(ignoredOthers, excludeReason));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, files, excluded, totalBytes: files.reduce((n, f) => n + f.size, 0) };
}
