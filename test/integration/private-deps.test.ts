/**
 * Private dependencies with the secrets kept on the host (issue 27), end to end with the real claude
 * driven by the scripted model server, on native and docker: `npm install` from a registry that
 * needs a token (--npm-token), `git clone https://github.com/…` of a repo that needs one
 * (--github-token, via insteadOf), and `ssh -T` with a key held by a per-session ssh-agent
 * (--ssh-key). Each proves that the sandbox never sees the secret and that without the flag the
 * same step fails.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { startGitServer, type GitServer } from '../fixtures/private-deps/git-server.js';
import { startNpmRegistry, type NpmRegistry } from '../fixtures/private-deps/npm-registry.js';
import { startSshd, type Sshd } from '../fixtures/private-deps/sshd.js';
import { parseNdjson, runCli, type CliResult } from '../helpers/cli.js';
import { dockerReady, leftoverContainers } from '../helpers/docker.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { buildPrivDepsImage, PRIVDEPS_IMAGE } from '../helpers/privdeps-image.js';

const KEY = `sk-ant-privdeps-${'p'.repeat(24)}`;
const NPM_TOKEN = `npm_${'Q7'.repeat(18)}`;
const GH_TOKEN = `ghp_${'Zx9'.repeat(12)}`;
const PKG = 'pcc-private-pkg';
const reversed = (s: string): string => [...s].reverse().join('');
const bash = (command: string): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, timeout: 180_000 } }] });
/**
 * Searches everything the agent can read for a secret without ever holding it in a command line:
 * the test passes it reversed and node writes the pattern to /tmp (not searched).
 */
const leakProbe = (secret: string): string =>
  `node -e 'require("fs").writeFileSync("/tmp/pat", process.argv[1].split("").reverse().join(""))' ${reversed(secret)}; ` +
  'echo "hits=$(grep -rlsF -f /tmp/pat "$HOME" /workspace /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | wc -l) env=$(env | grep -cF -f /tmp/pat)"; rm -f /tmp/pat';

let server: ModelServer | undefined;
let registry: NpmRegistry | undefined;
let gitServer: GitServer | undefined;
let sshd: Sshd | undefined;
afterEach(async () => {
  await Promise.all([server?.close(), registry?.close(), gitServer?.close(), sshd?.close()]);
  server = registry = gitServer = sshd = undefined;
});

const DOCKER = dockerReady();
if (DOCKER) buildPrivDepsImage();
afterAll(() => {
  if (DOCKER) execFileSync('docker', ['image', 'rm', '-f', PRIVDEPS_IMAGE], { stdio: 'ignore' });
});

const providers = [
  { name: 'native', args: [] as string[] },
  ...(DOCKER ? [{ name: 'docker', args: ['--docker-image', PRIVDEPS_IMAGE] }] : []),
];

/** Runs `sandbox run --json` with `args`; returns the result, its events and summary. */
async function run(provider: { name: string; args: string[] }, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult & { home: string; sandboxRoot: string; summary: Record<string, unknown>; events: Array<Record<string, unknown>> }> {
  const home = tempDir('pcc-pd-home-');
  const sandboxRoot = tempDir('pcc-pd-sbx-');
  const repo = makeRepo({ 'a.txt': 'a\n' });
  const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'fetch the private dependency', '--provider', provider.name, ...provider.args, ...args, '--json'], {
    env: { ...process.env, PARALLEL_CC_HOME: home, PARALLEL_CC_SANDBOX_ROOT: sandboxRoot, ANTHROPIC_BASE_URL: server?.url, ANTHROPIC_API_KEY: KEY, NO_COLOR: '1', GITHUB_TOKEN: '', ...extraEnv },
  });
  const events = parseNdjson(r.stdout);
  const summary = (events.find((e) => e.type === 'summary')?.summary ?? {}) as Record<string, unknown>;
  if (provider.name === 'docker') expect(leftoverContainers([String(summary.sessionId)])).toEqual([]);
  return { ...r, home, sandboxRoot, summary, events };
}

/** Every file under `dir` that contains `needle` (the CLI's own logs, registry, session files). */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 50_000_000 && readFileSync(p).includes(needle)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const results = (): string[] => (server?.toolResults() ?? []).map((t) => t.content);

describe.each(providers)('private dependencies on $name', (provider) => {
  it('--npm-token: npm install from a registry that needs the token works, and the token is nowhere in the sandbox; without it the install fails', { timeout: 300_000 }, async () => {
    registry = await startNpmRegistry({ token: NPM_TOKEN, name: PKG, marker: 'PRIVATE_PKG_LOADED' });
    server = await startModelServer({
      scenario: {
        steps: [
          bash(`mkdir -p "$HOME/proj" && cd "$HOME/proj" && npm install --no-save --no-package-lock ${PKG} >npm.log 2>&1; echo npm=$?; node -e "console.log('got=' + require('$HOME/proj/node_modules/${PKG}'))"; tail -3 npm.log`),
          bash(`cat "$HOME/.npmrc"; ${leakProbe(NPM_TOKEN)}`),
          { text: 'done' },
        ],
      },
    });
    const ok = await run(provider, ['--npm-registry', registry.url], { PARALLEL_CC_NPM_TOKEN: NPM_TOKEN });
    expect(ok.code, ok.stderr).toBe(0);
    const [install, probe] = results() as [string, string];
    expect(install).toMatch(/npm=0/);
    expect(install).toMatch(/got=PRIVATE_PKG_LOADED/);
    // The npmrc points at the session's endpoint and carries no token; nothing the agent can read has it.
    expect(probe).toMatch(/^registry=http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(probe).toMatch(/hits=0 env=0/);
    expect(probe).not.toContain(NPM_TOKEN);
    // The registry got the packument and the tarball with the token added on the host.
    expect(registry.requests.map((q) => q.url)).toEqual(expect.arrayContaining([`/${PKG}`, `/${PKG}/-/${PKG}-1.0.0.tgz`]));
    expect(registry.requests.every((q) => q.headers.authorization === `Bearer ${NPM_TOKEN}`)).toBe(true);
    // Each request is in the egress log (method, host, path), never the token: nor anywhere parallel-cc wrote.
    const log = readFileSync(join(ok.home, 'sessions', String(ok.summary.sessionId), 'egress.ndjson'), 'utf8');
    expect(log).toContain(`"via":"npm","method":"GET","host":"127.0.0.1"`);
    expect(log).toContain(`"path":"/${PKG}/-/${PKG}-1.0.0.tgz"`);
    expect(filesContaining(ok.home, NPM_TOKEN)).toEqual([]);
    expect(ok.stdout + ok.stderr).not.toContain(NPM_TOKEN);
    await server.close();

    // Without the token: the same registry (allowlisted, and through the egress proxy rather than the
    // sandbox's own loopback, so the request reaches it) refuses the install.
    server = await startModelServer({ scenario: { steps: [bash(`mkdir -p "$HOME/proj" && cd "$HOME/proj" && NO_PROXY= no_proxy= npm install --no-save --no-package-lock --registry ${registry.url} ${PKG} 2>&1 | grep -o -m1 E401; echo npm=\${PIPESTATUS[0]}`), { text: 'done' }] } });
    const without = await run(provider, ['--allow-domain', new URL(registry.url).host]);
    expect(without.code, without.stderr).toBe(0);
    expect(results()[0]).toMatch(/E401/);
    expect(results()[0]).not.toMatch(/npm=0/);
    expect(registry.requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('--github-token: git clone https://github.com/owner/repo goes through the endpoint (insteadOf) and works; without the flag it fails', { timeout: 300_000 }, async () => {
    const root = tempDir('pcc-pd-git-');
    const src = makeRepo({ 'secret.txt': 'PRIVATE_REPO_CONTENT\n' });
    execFileSync('git', ['clone', '-q', '--bare', src, join(root, 'owner', 'repo.git')]);
    gitServer = await startGitServer({ root, token: GH_TOKEN });
    const clone = 'git clone -q https://github.com/owner/repo.git "$HOME/clone" 2>&1 | tail -2; cat "$HOME/clone/secret.txt" 2>&1';
    server = await startModelServer({ scenario: { steps: [bash(clone), bash(`git config --global --get-regexp '^url\\.'; ${leakProbe(GH_TOKEN)}`), { text: 'done' }] } });
    const ok = await run(provider, ['--github-token', GH_TOKEN], { PARALLEL_CC_GITHUB_URL: gitServer.url });
    expect(ok.code, ok.stderr).toBe(0);
    const [cloned, probe] = results() as [string, string];
    expect(cloned).toMatch(/^PRIVATE_REPO_CONTENT$/m);
    expect(probe).toMatch(/^url\.http:\/\/127\.0\.0\.1:\d+\/\.insteadof https:\/\/github\.com\/$/m);
    expect(probe).toMatch(/hits=0 env=0/);
    expect(gitServer.requests.length).toBeGreaterThan(0);
    expect(gitServer.requests.every((q) => q.authorized)).toBe(true);
    expect(ok.events).toContainEqual(expect.objectContaining({ type: 'egress', via: 'git', method: 'GET', path: '/owner/repo.git/info/refs?service=git-upload-pack', allowed: true }));
    expect(filesContaining(ok.home, GH_TOKEN)).toEqual([]);
    await server.close();

    server = await startModelServer({ scenario: { steps: [bash(clone), { text: 'done' }] } });
    const seen = gitServer.requests.length;
    const without = await run(provider, [], { PARALLEL_CC_GITHUB_URL: gitServer.url });
    expect(without.code, without.stderr).toBe(0);
    expect(results()[0]).not.toMatch(/PRIVATE_REPO_CONTENT/);
    expect(results()[0]).toMatch(/fatal|No such file/);
    expect(gitServer.requests.length).toBe(seen);
  });

  it('--ssh-key: ssh -T authenticates through the session ssh-agent; no key file is in the sandbox; the agent is gone afterwards', { timeout: 300_000 }, async () => {
    sshd = await startSshd();
    const keyLine = readFileSync(sshd.keyPath, 'utf8').split('\n')[1] as string;
    const probe = `cat ${sshd.keyPath} 2>&1 | head -1; find / -path /proc -prune -o \\( -name 'deploy_key*' -o -name 'id_rsa*' -o -name 'id_ed25519*' \\) -print 2>/dev/null; echo "sock=$SSH_AUTH_SOCK"; ${leakProbe(keyLine)}`;
    server = await startModelServer({ scenario: { steps: [bash(`ssh -T -p ${sshd.port} ${sshd.user}@127.0.0.1 2>&1; echo ssh=$?`), bash(probe), { text: 'done' }] } });
    const ok = await run(provider, ['--ssh-key', sshd.keyPath], { PARALLEL_CC_SSH_HOST: `127.0.0.1:${sshd.port}` });
    expect(ok.code, ok.stderr).toBe(0);
    const [login, found] = results() as [string, string];
    expect(login).toContain(sshd.marker);
    expect(login).toMatch(/ssh=0/);
    // The key's own path does not exist inside, no key file is found, and its bytes are nowhere readable.
    expect(found).toMatch(/deploy_key: No such file or directory/);
    expect(found).not.toMatch(/PRIVATE KEY/);
    expect(found).toMatch(/hits=0 env=0/);
    expect(found.split('\n').filter((l) => l.startsWith('/'))).toEqual([]);
    expect(found).toMatch(/sock=\/opt\/parallel-cc\/run\/ssh-agent\.sock/);
    expect(ok.events).toContainEqual(expect.objectContaining({ type: 'egress', host: '127.0.0.1', port: sshd.port, allowed: true }));
    // Revoked with the session: no ssh-agent of it is left.
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(ok.sandboxRoot);
    await server.close();

    // Without the flag the same login fails (no agent, and port 22-style egress is closed).
    server = await startModelServer({ scenario: { steps: [bash(`ssh -T -o BatchMode=yes -o StrictHostKeyChecking=no -p ${sshd.port} ${sshd.user}@127.0.0.1 2>&1; echo ssh=$?`), { text: 'done' }] } });
    const without = await run(provider, []);
    expect(without.code, without.stderr).toBe(0);
    expect(results()[0]).not.toContain(sshd.marker);
    expect(results()[0]).toMatch(/ssh=255/);
  });
});

describe('private dependency flags', () => {
  it('bad values exit 2 with nothing created', async () => {
    const home = tempDir('pcc-pd-bad-');
    const repo = makeRepo();
    const worldReadable = join(tempDir('pcc-pd-key-'), 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', worldReadable]);
    execFileSync('chmod', ['644', worldReadable]);
    const withPass = join(tempDir('pcc-pd-key-'), 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', withPass]);
    const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
      [['--npm-registry', 'https://npm.example.com/'], /--npm-registry needs --npm-token/],
      [['--npm-token', 'tok', '--npm-registry', 'ftp://x/'], /not an http\(s\) URL/],
      [['--npm-token', 'tok', '--npm-registry', 'https://u:p@npm.example.com/'], /must not carry credentials/],
      [['--npm-token', 'has space'], /--npm-token: the token is empty/],
      [['--github-token'], /reads GITHUB_TOKEN, which is not set/],
      [['--github-token', 'tok'], /PARALLEL_CC_GITHUB_URL/, { PARALLEL_CC_GITHUB_URL: 'not a url' }],
      [['--ssh-key', '/nonexistent/key'], /does not exist/],
      [['--ssh-key', repo], /not a regular file/],
      [['--ssh-key', worldReadable], /readable by others/],
      [['--ssh-key', `${worldReadable}.pub`], /readable by others|not a private key/],
      [['--ssh-key', withPass], /protected by a passphrase/],
      [['--ssh-key', withPass.replace(/key$/, 'key.pub')], /readable by others|not a private key/],
      [['--npm-token', 'tok', '--provider', 'e2b'], /need a local sandbox/, { E2B_API_KEY: 'e2b_test' }],
      [['--multi', '--task', 'a', '--ssh-key', '/x'], /not supported with --multi/],
    ];
    for (const [args, message, env] of cases) {
      const prompt = args.includes('--multi') ? [] : ['--prompt', 'x'];
      const r = await runCli(['sandbox', 'run', '--repo', repo, ...prompt, '--provider', 'native', ...args, '--json'], { env: { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_API_KEY: KEY, GITHUB_TOKEN: '', ...env } });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(readdirSync(home).filter((f) => f !== 'config.json')).toEqual([]);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*')).toBe('');
  });
});
