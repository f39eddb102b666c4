import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOOK_COMMAND, install, installStatus } from '../../src/core/install/install.js';
import { tempDir } from '../helpers/git-repo.js';

const ORIGINAL = `{
  "hooks": { "PostToolUse": [{ "matcher": "Edit", "hooks": [{ "type": "command", "command": "echo mine" }] }] },
  "mcpServers": { "other": { "command": "x" } },
  "theme": "dark"
}
`;

function fixture(): { settingsFile: string; rc: string } {
  const home = tempDir('pcc-install-');
  mkdirSync(join(home, '.claude'));
  const settingsFile = join(home, '.claude', 'settings.json');
  writeFileSync(settingsFile, ORIGINAL);
  const rc = join(home, '.bashrc');
  writeFileSync(rc, 'export PATH="$HOME/bin:$PATH"'); // no trailing newline, on purpose
  return { settingsFile, rc };
}

const all = { hooks: true, alias: true, mcp: true };

describe('install', () => {
  it('twice keeps the user\'s hooks and servers, adds ours once; --uninstall restores the original bytes', async () => {
    const { settingsFile, rc } = fixture();
    const rcBefore = readFileSync(rc);
    await install({ settingsFile, rcFiles: [rc], targets: all, uninstall: false });
    const second = await install({ settingsFile, rcFiles: [rc], targets: all, uninstall: false });
    expect(second.every((c) => c.action === 'already present')).toBe(true);
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as { hooks: { PostToolUse: Array<{ hooks: Array<{ command: string }> }> }; mcpServers: Record<string, unknown>; theme: string };
    const commands = settings.hooks.PostToolUse.flatMap((g) => g.hooks.map((h) => h.command));
    expect(commands).toEqual(['echo mine', HOOK_COMMAND]);
    expect(Object.keys(settings.mcpServers)).toEqual(['other', 'parallel-cc']);
    expect(settings.theme).toBe('dark');
    expect(readFileSync(rc, 'utf8').match(/alias claude='claude-parallel'/g)).toHaveLength(1);
    expect((await installStatus([settingsFile], [rc])).every((s) => s.installed)).toBe(true);

    const removed = await install({ settingsFile, rcFiles: [rc], targets: all, uninstall: true });
    expect(removed.map((c) => c.action)).toEqual(['removed', 'removed', 'removed']);
    expect(readFileSync(settingsFile, 'utf8')).toBe(ORIGINAL);
    expect(readFileSync(rc).equals(rcBefore)).toBe(true);
    expect((await installStatus([settingsFile], [rc])).some((s) => s.installed)).toBe(false);
  });

  it('refuses an unparsable settings.json with a clear error and changes nothing', async () => {
    const { settingsFile, rc } = fixture();
    writeFileSync(settingsFile, '{ "hooks": [ oops');
    await expect(install({ settingsFile, rcFiles: [rc], targets: { hooks: true, alias: false, mcp: false }, uninstall: false })).rejects.toThrow(/settings\.json is not valid JSON .*nothing was changed/);
    expect(readFileSync(settingsFile, 'utf8')).toBe('{ "hooks": [ oops');
  });
});
