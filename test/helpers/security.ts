/** Shared pieces of the security suites: a host with secrets, digests and leak searches. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo, tempDir, writeFiles } from './git-repo.js';

/** The "real" model API key of the tests: its bytes must never appear in a sandbox. */
export const REAL_KEY = `sk-ant-api03-REALKEY${'9'.repeat(30)}`;
/** The host's Claude login token (oauth tests). */
export const OAUTH_TOKEN = `sk-ant-oat01-OAUTHTOKEN${'7'.repeat(30)}`;

/** Every file below a folder, with its bytes hashed: "byte-identical where it must be". */
export function treeDigest(root: string): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      h.update(`${p.slice(root.length)}:${st.mode}\n`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(root);
  return h.digest('hex');
}

/** All text of every file below a folder (to look for leaked bytes). */
export function allText(root: string): string {
  if (!existsSync(root)) return '';
  let out = '';
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 50_000_000) out += readFileSync(p).toString('latin1');
    }
  };
  walk(root);
  return out;
}

export function hostFixture(): { hostHome: string; repo: string; home: string } {
  const hostHome = tempDir('pcc-adv-userhome-');
  writeFiles(hostHome, {
    '.ssh/id_rsa': 'SSH_KEY_MARKER\n',
    '.ssh/config': 'SSH_CONFIG_MARKER\n',
    '.aws/credentials': 'AWS_MARKER\n',
    '.claude/.credentials.json': JSON.stringify({ claudeAiOauth: { accessToken: OAUTH_TOKEN, expiresAt: Date.now() + 3_600_000 } }),
  });
  const repo = makeRepo({ 'src/app.ts': 'export {};\n', '.gitignore': 'dist/\n' });
  writeFiles(repo, { '.env': 'ENV_MARKER=1\n', '.env.production': 'ENV_PROD_MARKER=1\n', 'deploy.pem': 'PEM_MARKER\n' });
  return { hostHome, repo, home: tempDir('pcc-adv-home-') };
}

