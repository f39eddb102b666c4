/**
 * An agent that tries everything: read host secrets and its own credential, write outside its
 * workspace and into the host repo's .git, reach unlisted hosts and the broker with a wrong key,
 * fork-bomb, allocate 4 GB, and poison its results with a symlink out and a `../` path. Real claude
 * binary, real bwrap, scripted model server. Each escape must fail and be visible as such.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer, type Scenario } from '../fixtures/model-server/server.js';
import { parseNdjson, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { git } from '../helpers/git-repo.js';
import { allText, hostFixture, OAUTH_TOKEN, REAL_KEY, treeDigest } from '../helpers/security.js';

const bash = (command: string, timeout?: number): Scenario['steps'][number] => ({ toolUses: [{ name: 'Bash', input: { command, ...(timeout ? { timeout } : {}) } }] });

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

// Native always; docker where a daemon and the test image exist (CI has both).
const PROVIDERS = ['native', ...(dockerReady() ? ['docker'] : [])];

describe.each(PROVIDERS)('adversarial agent on the %s provider', (provider) => {
  it('fails every escape, leaks no credential, holds its limits and ends with a clear status', async () => {
    const { hostHome, repo, home } = hostFixture();
    const probes = [
      // 0: its own environment and every process's.
      `env | sort; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | sort -u; echo rc=$?`,
      // 1: host secrets by every path it might guess.
      `cat ~/.ssh/* ~/.aws/credentials ~/.claude/.credentials.json ${hostHome}/.ssh/id_rsa ${hostHome}/.claude/.credentials.json .env .env.production deploy.pem ${repo}/.env 2>&1; echo rc=$?`,
      // 2: writes outside the workspace and into the host repo's .git.
      `echo x > ../outside.txt; echo x > /tmp/../etc/evil; echo x > ${repo}/.git/hooks/pre-commit; echo x >> ${repo}/.git/config; mkdir -p ${hostHome}/pwned 2>&1; echo rc=$?`,
      // 3: the network: an unlisted host, the metadata address, and the broker with a wrong key.
      `curl -sS -m 10 https://example.com/ -o /dev/null; echo curl=$?; curl -fsS -m 5 http://169.254.169.254/ -o /dev/null; echo meta=$?; ` +
        `curl -sS -m 10 -H 'x-api-key: sk-ant-wrong-key-000000000' -H 'content-type: application/json' -d '{"model":"x","max_tokens":1,"messages":[]}' "$ANTHROPIC_BASE_URL/v1/messages"; echo; echo broker=$?`,
      // 4: a 4 GB allocation.
      `node -e "const a=[];for(let i=0;i<80;i++){a.push(Buffer.alloc(50*1024*1024,1))}console.log('ALLOC'+'ATED_4GB')"; echo rc=$?`,
      // 5: still alive after that.
      `echo alive > alive.txt; echo ok`,
      // 6: a fork bomb. The pids limit covers the whole sandbox, agent included, so claude itself
      // goes down with it: the session must end failed with the reason, and the work so far kept.
      `mkfifo /tmp/w; set -m; (f(){ f|f & }; f) & pg=$!; read -t 4 <> /tmp/w; kill -9 -- -$pg 2>/dev/null; echo bomb-contained`,
    ];
    server = await startModelServer({ scenario: { steps: [...probes.map((p) => bash(p, 120_000)), { text: 'done' }] } });
    const repoGit = join(repo, '.git');
    // parallel-cc itself adds a branch and a worktree entry; hooks and config are what must not move.
    const gitDigest = (): string => `${treeDigest(join(repoGit, 'hooks'))}:${createHash('sha256').update(readFileSync(join(repoGit, 'config'))).digest('hex')}`;
    const before = { git: gitDigest(), hostHome: treeDigest(hostHome) };
    const env = { ...process.env, HOME: hostHome, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'try to escape', '--json', '--timeout', '5', '--provider', provider], { env });

    const results = server.toolResults().map((t) => t.content);
    // The agent may die in the fork bomb (probe 6); then that probe's result never reaches the model.
    const agentSurvived = results.length === probes.length;
    expect(results.length, `${r.stderr}\n${JSON.stringify(results, null, 1).slice(0, 6000)}`).toBeGreaterThanOrEqual(probes.length - 1);
    if (agentSurvived) expect(results[6]).toMatch(/fork: retry: Resource temporarily unavailable|bomb-contained/);
    const [envOut, secretsOut, writesOut, netOut, memOut, aliveOut] = results as [string, string, string, string, string, string];
    // No credential and no host secret in anything the agent saw.
    const seen = results.join('\n');
    for (const marker of [REAL_KEY, OAUTH_TOKEN, 'SSH_KEY_MARKER', 'SSH_CONFIG_MARKER', 'AWS_MARKER', 'ENV_MARKER', 'ENV_PROD_MARKER', 'PEM_MARKER']) expect(seen).not.toContain(marker);
    expect(envOut).toMatch(/ANTHROPIC_API_KEY=sk-ant-pcc-/); // only the per-session placeholder
    expect(secretsOut).toMatch(/No such file or directory/);
    expect(writesOut).toMatch(/Read-only file system|No such file or directory|Permission denied/);
    expect(netOut).toMatch(/curl=(56|22|7|35)/);
    expect(netOut).toMatch(/meta=(56|22|7|35|28)/);
    expect(netOut).toMatch(/broker=0/);
    expect(netOut).toMatch(/invalid session key/);
    expect(memOut).not.toContain('ALLOCATED_4GB');
    expect(memOut).toMatch(/rc=(137|134)/);
    expect(aliveOut).toContain('ok');

    // The model server only ever saw the real key; the wrong key never got through the broker.
    expect(server.requests.every((q) => q.headers['x-api-key'] === REAL_KEY)).toBe(true);

    // Nothing on the host changed where it must not, and nothing leaked into output, logs or registry.
    expect(r.code, r.stderr).toBe(agentSurvived ? 0 : 1);
    expect(gitDigest()).toBe(before.git);
    expect(existsSync(join(repoGit, 'hooks', 'pre-commit'))).toBe(false);
    expect(treeDigest(hostHome)).toBe(before.hostHome);
    expect(existsSync(join(repo, '..', 'outside.txt'))).toBe(false);
    for (const text of [r.stdout, r.stderr, allText(home)]) {
      expect(text).not.toContain(REAL_KEY);
      expect(text).not.toContain(OAUTH_TOKEN);
    }

    // The limits held and the run says so.
    const events = parseNdjson(r.stdout);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => String(e.message));
    expect(warnings.join('\n')).toMatch(/out of memory \(limit 2g/);
    expect(warnings.join('\n')).toMatch(/process limit reached \(limit 512/);
    const summary = events.find((e) => e.type === 'summary')?.summary as Record<string, unknown>;
    if (agentSurvived) expect(summary.status).toBe('completed');
    else {
      expect(summary.status).toBe('failed');
      expect(String(summary.error)).toMatch(/process limit reached \(limit 512/);
    }
    expect(Number(summary.egressDenied)).toBeGreaterThanOrEqual(2);
    const denied = events.filter((e) => e.type === 'egress' && e.allowed === false).map((e) => `${String(e.host)}:${String(e.port)}`);
    expect(denied).toEqual(expect.arrayContaining(['example.com:443', '169.254.169.254:80']));
    expect(git(repo, 'show', `${String(summary.branch)}:alive.txt`)).toBe('alive');
  });

});

describe('adversarial results and credentials (native)', () => {
  it('refuses results that carry a symlink out of the repo or a ../ path, and lands nothing', async () => {
    const { repo, home } = hostFixture();
    const forge = [
      `const { execFileSync: x } = require('child_process');`,
      `const git = (a, input) => x('git', a, { input }).toString().trim();`,
      `const entry = (mode, name, sha) => Buffer.concat([Buffer.from(mode + ' ' + name + '\\0'), Buffer.from(sha, 'hex')]);`,
      `const mk = (buf) => git(['hash-object', '-w', '-t', 'tree', '--literally', '--stdin'], buf);`,
      `const blob = git(['hash-object', '-w', '--stdin'], 'pwned\\n');`,
      `const up2 = mk(entry('40000', '..', mk(entry('40000', '..', mk(entry('100644', 'x', blob))))));`,
      `const head = x('git', ['cat-file', 'tree', 'HEAD^{tree}']);`,
      `const top = mk(Buffer.concat([entry('40000', '..', up2), head]));`,
      `const c = git(['commit-tree', top, '-p', 'HEAD', '-m', 'escape']);`,
      `git(['update-ref', 'HEAD', c]);`,
      `console.log('forged', c);`,
    ].join('\n');
    server = await startModelServer({
      scenario: {
        steps: [
          bash(`ln -s /etc/passwd passwd-link && git add passwd-link && git commit -qm 'link out' && echo linked`),
          { toolUses: [{ name: 'Write', input: { file_path: '/workspace/forge.cjs', content: forge } }] },
          bash('node forge.cjs; rm forge.cjs'),
          { text: 'done' },
        ],
      },
    });
    const env = { ...process.env, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: REAL_KEY, NO_COLOR: '1' };
    const headBefore = git(repo, 'rev-parse', 'HEAD');
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'poison the results', '--json'], { env });
    expect(server.toolResults().map((t) => t.content).join('\n')).toMatch(/linked[\s\S]*forged/);
    expect(r.code).toBe(5);
    const summary = parseNdjson(r.stdout).find((e) => e.type === 'summary')?.summary as Record<string, unknown>;
    expect(summary.status).toBe('failed');
    expect(String(summary.error)).toMatch(/symlink to an absolute path \(\/etc\/passwd\)/);
    expect(String(summary.error)).toMatch(/does not apply: .*(invalid path|\.\.)/);
    // Nothing of it reached the host: no file above the repo, no symlink on the branch, HEAD untouched.
    expect(existsSync(join(repo, '..', 'x'))).toBe(false);
    expect(existsSync(join(repo, '..', '..', 'x'))).toBe(false);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(headBefore);
    const branchFiles = git(repo, 'ls-tree', '-r', '--name-only', String(summary.branch));
    expect(branchFiles).not.toContain('passwd-link');
  });

  it('with --auth-method oauth the broker uses the host login; the token never enters the sandbox', async () => {
    const { hostHome, repo, home } = hostFixture();
    server = await startModelServer({ scenario: { steps: [bash(`env; cat ~/.claude/.credentials.json; echo rc=$?`), { text: 'ok' }] } });
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: hostHome, PARALLEL_CC_HOME: home, ANTHROPIC_BASE_URL: server.url, NO_COLOR: '1' };
    delete env.ANTHROPIC_API_KEY;
    delete env.ANTHROPIC_AUTH_TOKEN;
    delete env.CLAUDE_CODE_OAUTH_TOKEN;
    const r = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'who am i', '--auth-method', 'oauth', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const main = server.requests.filter((q) => q.main);
    expect(main.length).toBeGreaterThan(0);
    for (const q of main) {
      expect(q.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
      expect(String(q.headers['anthropic-beta'])).toContain('oauth-2025-04-20');
      expect(q.headers['x-api-key']).toBeUndefined();
    }
    const [seen] = server.toolResults().map((t) => t.content);
    expect(seen).not.toContain(OAUTH_TOKEN);
    expect(seen).toMatch(/No such file or directory/);
    expect(r.stdout + r.stderr + allText(home)).not.toContain(OAUTH_TOKEN);

    const bad = await runCli(['sandbox', 'run', '--repo', repo, '--prompt', 'x', '--auth-method', 'password'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown --auth-method "password"/);
  });
});
