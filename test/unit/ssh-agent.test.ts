/**
 * The per-session ssh-agent (`--ssh-key`): the sandbox's relay lets it list the key and sign, but
 * not remove, add or lock keys; closing the session kills the agent and removes its sockets.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSshAgent } from '../../src/core/net/ssh-agent.js';
import { tempDir } from '../helpers/git-repo.js';

// Asynchronous: the relay runs in this process, so a synchronous child would deadlock it.
const exec = (cmd: string, args: string[], sock: string): Promise<{ code: number; out: string }> =>
  new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { PATH: process.env.PATH, SSH_AUTH_SOCK: sock }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
    );
    child.stdin?.end();
  });
const sshAdd = (sock: string, ...args: string[]): Promise<{ code: number; out: string }> => exec('ssh-add', args, sock);

describe('startSshAgent', () => {
  it('holds only the key; the relay lists and signs, refuses remove/add/lock; close() revokes it all', async () => {
    const keys = tempDir('pcc-agent-keys-');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'session-key', '-f', join(keys, 'k')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'other-key', '-f', join(keys, 'other')]);
    const dir = tempDir('pcc-agent-run-');
    const agent = await startSshAgent({ dir, keyPath: join(keys, 'k') });
    try {
      const sock = agent.socketPath;
      const first = await sshAdd(sock, '-l');
      expect(first.code).toBe(0);
      expect(first.out).toContain('session-key');
      // Signing works through the relay (ssh-keygen -Y sign asks the agent for the public key's signature).
      execFileSync('sh', ['-c', `printf data > ${join(keys, 'msg')}`]);
      const sign = await exec('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', join(keys, 'k.pub'), join(keys, 'msg')], sock);
      expect(sign.code, sign.out).toBe(0);
      expect((await sshAdd(sock, '-D')).code).not.toBe(0);
      expect((await sshAdd(sock, join(keys, 'other'))).code).not.toBe(0);
      expect((await sshAdd(sock, '-x')).code).not.toBe(0);
      const listed = (await sshAdd(sock, '-l')).out;
      expect(listed).toContain('session-key');
      expect(listed).not.toContain('other-key');
    } finally {
      await agent.close();
    }
    expect(existsSync(agent.socketPath)).toBe(false);
    expect(existsSync(join(dir, 'ssh-agent'))).toBe(false);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(dir);
  });

  it('a burst of requests from the sandbox is answered one by one, in order (the relay reads on only after each answer)', async () => {
    const keys = tempDir('pcc-agent-keys-');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'k')]);
    const agent = await startSshAgent({ dir: tempDir('pcc-agent-run-'), keyPath: join(keys, 'k') });
    try {
      // 200 SSH_AGENTC_REQUEST_IDENTITIES (11) and a refused REMOVE_ALL (19) in one write.
      const list = Buffer.from([0, 0, 0, 1, 11]);
      const burst = Buffer.concat([...Array.from({ length: 200 }, () => list), Buffer.from([0, 0, 0, 1, 19])]);
      const answers = await new Promise<number[]>((resolve, reject) => {
        const sock = connect(agent.socketPath, () => sock.write(burst));
        let buf = Buffer.alloc(0);
        const types: number[] = [];
        sock.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
            types.push(buf[4] ?? -1);
            buf = buf.subarray(4 + buf.readUInt32BE(0));
          }
          if (types.length === 201) {
            sock.destroy();
            resolve(types);
          }
        });
        sock.on('error', reject);
      });
      // 12 = SSH_AGENT_IDENTITIES_ANSWER, 5 = SSH_AGENT_FAILURE.
      expect(answers).toEqual([...Array.from({ length: 200 }, () => 12), 5]);
    } finally {
      await agent.close();
    }
  });

  it('a CLI killed with SIGKILL (no teardown) leaves no agent behind holding the key', { timeout: 60_000 }, async () => {
    const keys = tempDir('pcc-agent-keys-');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'k')]);
    const dir = tempDir('pcc-agent-run-');
    const mod = fileURLToPath(new URL('../../dist/core/net/ssh-agent.js', import.meta.url));
    const script = `import(${JSON.stringify(mod)}).then(async (m) => { await m.startSshAgent({ dir: ${JSON.stringify(dir)}, keyPath: ${JSON.stringify(join(keys, 'k'))} }); console.log('ready'); setInterval(() => {}, 1000); });`;
    const cli = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => cli.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const agents = (): string[] => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(dir));
    expect(agents().length).toBeGreaterThan(0);
    cli.kill('SIGKILL');
    // ssh-agent checks for its parent every 10 s.
    await expect.poll(agents, { timeout: 45_000, interval: 500 }).toEqual([]);
  });
});
