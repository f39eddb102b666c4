/**
 * A package agent (gemini's node bundle) in a local sandbox: its folder is mirrored into the
 * sandbox folder with hard links (so no mount source names the host install), its entry runs with
 * the sandbox's node, and its own files are written below the sandbox home only.
 */
import { lstatSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchArgv, writeAgentFiles } from '../../src/core/agent-select.js';
import { mirrorPackage } from '../../src/providers/local/sandbox-files.js';
import type { ExecHandle, ExecRequest, SandboxHandle, SandboxProvider } from '../../src/providers/provider.js';
import { tempDir, writeFiles } from '../helpers/git-repo.js';

describe('mirrorPackage', () => {
  it('hard-links every file (same inode, the host file untouched), keeps symlinks, and starts over each time', async () => {
    const pkg = tempDir('pcc-pkg-');
    writeFiles(pkg, { 'package.json': '{"name":"x"}', 'bundle/entry.js': 'console.log(1)\n', 'bundle/deep/chunk.js': '// c\n' });
    symlinkSync('entry.js', join(pkg, 'bundle/alias.js'));
    const sandboxDir = tempDir('pcc-sbx-');
    const dest = await mirrorPackage(pkg, sandboxDir, 'gemini');
    expect(dest).toBe(join(sandboxDir, 'opt', 'pkg-gemini'));
    expect(statSync(join(dest, 'bundle/deep/chunk.js')).ino).toBe(statSync(join(pkg, 'bundle/deep/chunk.js')).ino);
    expect(readlinkSync(join(dest, 'bundle/alias.js'))).toBe('entry.js');
    writeFiles(sandboxDir, { 'opt/pkg-gemini/stale.js': 'old' });
    await mirrorPackage(pkg, sandboxDir, 'gemini');
    expect(() => lstatSync(join(dest, 'stale.js'))).toThrow();
    expect(readFileSync(join(pkg, 'bundle/entry.js'), 'utf8')).toBe('console.log(1)\n');
  });
});

describe('running a package agent', () => {
  const sandbox: SandboxHandle = { id: 's', provider: 'native', workdir: '/workspace', homedir: '/home/agent', agentPath: '/opt/parallel-cc/pkg/gemini/bundle/gemini.js', nodeArgv: ['/usr/bin/node'], endpoints: {} };

  it('prefixes the sandbox\'s node for a package, leaves a binary alone, and needs a node', () => {
    const pkg = { kind: 'package' as const, dir: '/host/pkg', entry: 'bundle/gemini.js' };
    expect(launchArgv(pkg, sandbox, [sandbox.agentPath, '-p', ''])).toEqual(['/usr/bin/node', sandbox.agentPath, '-p', '']);
    expect(launchArgv({ kind: 'binary', path: '/x' }, sandbox, ['/opt/parallel-cc/bin/codex', 'exec'])).toEqual(['/opt/parallel-cc/bin/codex', 'exec']);
    const { nodeArgv: _none, ...noNode } = sandbox;
    expect(() => launchArgv(pkg, noNode, ['x'])).toThrow(/no node/);
  });

  it('writes the agent\'s files with one fixed script (path as argv, content on stdin), only below the home', async () => {
    const calls: ExecRequest[] = [];
    const done = (): ExecHandle =>
      ({
        [Symbol.asyncIterator]: async function* () {},
        wait: () => Promise.resolve({ exitCode: 0, signal: null }),
        kill: () => Promise.resolve(),
      });
    const provider = { execute: (_s: SandboxHandle, req: ExecRequest) => (calls.push(req), done()) } as unknown as SandboxProvider;
    await writeAgentFiles(provider, sandbox, [{ path: '.gemini/settings.json', content: '{"a":1}\n' }]);
    expect(calls.map((c) => [c.argv, c.stdin])).toEqual([[['sh', '-c', 'umask 077 && mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', '/home/agent/.gemini/settings.json'], '{"a":1}\n']]);
    await expect(writeAgentFiles(provider, sandbox, [{ path: '../../etc/x', content: '' }])).rejects.toThrow(/outside the sandbox home/);
  });
});
