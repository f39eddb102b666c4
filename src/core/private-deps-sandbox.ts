import { basePathOf } from './net/cred-forward.js';
import type { PrivateDeps } from './private-deps.js';
import type { SandboxHandle } from '../providers/provider.js';

/**
 * What a sandbox gets for the session's private dependencies instead of the secrets: files in the
 * agent's home (an npmrc without a token, a global git config routing github.com through the
 * local endpoint, an ssh config) and variables for the agent (SSH_AUTH_SOCK, GIT_SSH_COMMAND).
 * The files are written before the setup hook, so `--setup "npm ci"` uses them too.
 */
export interface SandboxDepsSetup {
  files: Array<{ path: string; content: string }>;
  env: Record<string, string>;
}

/** ssh's ProxyCommand: one CONNECT through the egress proxy, then bytes both ways (no `%`: ssh expands it). */
const CONNECT_SCRIPT = `'use strict';
const net = require('node:net');
const [host, port] = process.argv.slice(2);
const proxyPort = Number(process.env.PCC_PROXY_PORT);
const s = net.connect(proxyPort, '127.0.0.1', () => s.write('CONNECT ' + host + ':' + port + ' HTTP/1.1\\r\\nHost: ' + host + ':' + port + '\\r\\n\\r\\n'));
let head = Buffer.alloc(0);
const onData = (d) => {
  head = Buffer.concat([head, d]);
  const end = head.indexOf('\\r\\n\\r\\n');
  if (end < 0) return;
  s.off('data', onData);
  const status = head.subarray(0, end).toString('latin1').split('\\r\\n')[0];
  if (!/^HTTP\\/1\\.[01] 200/.test(status)) { process.stderr.write('parallel-cc: egress refused ' + host + ':' + port + ': ' + status + '\\n'); process.exit(1); }
  if (head.length > end + 4) process.stdout.write(head.subarray(end + 4));
  s.pipe(process.stdout);
  process.stdin.pipe(s);
};
s.on('data', onData);
s.on('error', (e) => { process.stderr.write('parallel-cc: ' + e.message + '\\n'); process.exit(1); });
s.on('close', () => process.exit(0));
`;

/** The sandbox files and agent variables for `deps` on `sandbox` (whose endpoints the bridges set). */
export function sandboxDepsSetup(deps: PrivateDeps | undefined, sandbox: Pick<SandboxHandle, 'endpoints' | 'homedir' | 'nodeArgv'>): SandboxDepsSetup {
  const out: SandboxDepsSetup = { files: [], env: {} };
  if (!deps) return out;
  const { forwards = {}, proxy, sshAuthSock } = sandbox.endpoints;
  if (deps.npm && forwards.npm) {
    const base = basePathOf(new URL(deps.npm.registry));
    // No token: the endpoint adds it on the host. Tarball URLs in packuments name the real
    // registry host; replace-registry-host=always sends them to the endpoint too (same path).
    out.files.push({ path: '.npmrc', content: `registry=${forwards.npm}${base}/\nreplace-registry-host=always\naudit=false\nfund=false\nupdate-notifier=false\n` });
  }
  if (deps.github && forwards.git) {
    const base = basePathOf(new URL(deps.github.url));
    out.files.push({ path: '.gitconfig', content: `# parallel-cc: github.com fetches go through the session's endpoint, which adds the token on the host.\n[url "${forwards.git}${base}/"]\n\tinsteadOf = https://github.com/\n` });
  }
  if (deps.ssh && sshAuthSock) {
    const home = sandbox.homedir;
    const lines = ['Host *', `  UserKnownHostsFile ${home}/.ssh/known_hosts`, '  StrictHostKeyChecking accept-new', '  IdentityFile none', '  BatchMode yes'];
    if (proxy) {
      // No network of its own: ssh reaches the git host through the egress proxy (which allows only its port 22).
      const node = (sandbox.nodeArgv ?? ['node']).join(' ');
      lines.push(`  ProxyCommand env PCC_PROXY_PORT=${new URL(proxy).port} ${node} ${home}/.ssh/parallel-cc-connect.cjs %h %p`);
      out.files.push({ path: '.ssh/parallel-cc-connect.cjs', content: CONNECT_SCRIPT });
    }
    out.files.push({ path: '.ssh/config', content: `${lines.join('\n')}\n` });
    out.env.SSH_AUTH_SOCK = sshAuthSock;
    out.env.GIT_SSH_COMMAND = 'ssh -o StrictHostKeyChecking=accept-new';
  }
  return out;
}
