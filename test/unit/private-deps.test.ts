/**
 * The private-dependency flags as the sandbox sees them: what the npmrc, git config and ssh config
 * say (and that none of them carries a secret), which allowlist entry --ssh-key adds, and that the
 * flags are in `--help` and shell completion.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { completionEntries } from '../../src/cli/completion.js';
import { parsePrivateDeps, parseSshHost, privateDepAllowlist } from '../../src/core/private-deps.js';
import { sandboxDepsSetup } from '../../src/core/private-deps-sandbox.js';

const sandbox = {
  homedir: '/home/agent',
  nodeArgv: ['/usr/bin/node'],
  endpoints: { proxy: 'http://127.0.0.1:43128', forwards: { npm: 'http://127.0.0.1:43129', git: 'http://127.0.0.1:43130' }, sshAuthSock: '/opt/parallel-cc/run/ssh-agent.sock' },
};

describe('sandboxDepsSetup', () => {
  it('points npm and git at the endpoints (keeping the upstream path) with no token anywhere', () => {
    const setup = sandboxDepsSetup({ npm: { registry: 'https://npm.example.com/api/npm/', token: 'NPMSECRET' }, github: { url: 'https://github.com', token: 'GHSECRET' } }, sandbox);
    const files = Object.fromEntries(setup.files.map((f) => [f.path, f.content]));
    expect(files['.npmrc']).toMatch(/^registry=http:\/\/127\.0\.0\.1:43129\/api\/npm\/$/m);
    expect(files['.npmrc']).toMatch(/^replace-registry-host=always$/m);
    expect(files['.gitconfig']).toContain('[url "http://127.0.0.1:43130/"]\n\tinsteadOf = https://github.com/\n');
    expect(JSON.stringify(setup)).not.toMatch(/NPMSECRET|GHSECRET/);
    expect(setup.env).toEqual({});
  });

  it('--ssh-key: the relay socket, GIT_SSH_COMMAND and a ProxyCommand through the egress proxy; none without a proxy', () => {
    const deps = { ssh: { keyPath: '/host/key', host: 'github.com', port: 22 } };
    const setup = sandboxDepsSetup(deps, sandbox);
    expect(setup.env).toEqual({ SSH_AUTH_SOCK: '/opt/parallel-cc/run/ssh-agent.sock', GIT_SSH_COMMAND: 'ssh -o StrictHostKeyChecking=accept-new' });
    const config = setup.files.find((f) => f.path === '.ssh/config')?.content ?? '';
    expect(config).toContain('ProxyCommand env PCC_PROXY_PORT=43128 /usr/bin/node /home/agent/.ssh/parallel-cc-connect.cjs %h %p');
    expect(config).toContain('StrictHostKeyChecking accept-new');
    expect(JSON.stringify(setup)).not.toContain('/host/key');
    const direct = sandboxDepsSetup(deps, { ...sandbox, endpoints: { sshAuthSock: sandbox.endpoints.sshAuthSock } });
    expect(direct.files.map((f) => f.path)).toEqual(['.ssh/config']);
    expect(direct.files[0]?.content).not.toContain('ProxyCommand');
    expect(privateDepAllowlist(deps)).toEqual(['github.com:22']);
    expect(privateDepAllowlist({ npm: { registry: 'https://r/', token: 't' } })).toEqual([]);
  });

  it('nothing without deps or without the endpoint', () => {
    expect(sandboxDepsSetup(undefined, sandbox)).toEqual({ files: [], env: {} });
    expect(sandboxDepsSetup({ npm: { registry: 'https://r/', token: 't' } }, { ...sandbox, endpoints: {} }).files).toEqual([]);
  });
});

describe('parsePrivateDeps', () => {
  it('reads PARALLEL_CC_NPM_TOKEN, a bare --github-token from GITHUB_TOKEN (never GITHUB_TOKEN alone)', async () => {
    expect(await parsePrivateDeps({}, { GITHUB_TOKEN: 'ghtok' }, '/')).toBeUndefined();
    expect(await parsePrivateDeps({ githubToken: true }, { GITHUB_TOKEN: 'ghtok', PARALLEL_CC_GITHUB_URL: 'http://127.0.0.1:9/' }, '/')).toEqual({ github: { token: 'ghtok', url: 'http://127.0.0.1:9/' } });
    expect(await parsePrivateDeps({}, { PARALLEL_CC_NPM_TOKEN: 'npmtok' }, '/')).toEqual({ npm: { token: 'npmtok', registry: 'https://registry.npmjs.org/' } });
    expect(parseSshHost('127.0.0.1:2222')).toEqual({ host: '127.0.0.1', port: 2222 });
    expect(() => parseSshHost('host:99999')).toThrow(/not host\[:port\]/);
  });
});

describe('--help and completion', () => {
  it('list the private-dependency flags of sandbox run', () => {
    let out = '';
    const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
    const program = buildProgram({ cwd: '/', env: {}, home: '/nonexistent-home', now: () => new Date(0), stdout: sink, stderr: sink, signal: new AbortController().signal }, () => undefined);
    const flags = completionEntries(program).find((e) => e.path.join(' ') === 'sandbox run')?.flags ?? [];
    expect(flags).toEqual(expect.arrayContaining(['--npm-token', '--npm-registry', '--github-token', '--ssh-key']));
    const run = program.commands.find((c) => c.name() === 'sandbox')?.commands.find((c) => c.name() === 'run');
    run?.outputHelp();
    for (const f of ['--npm-token <token>', '--npm-registry <url>', '--github-token [token]', '--ssh-key <path>']) expect(out).toContain(f);
  });
});
