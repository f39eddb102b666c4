import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../../errors.js';

/** What `install` can set up. */
export interface InstallTargets {
  hooks: boolean;
  alias: boolean;
  mcp: boolean;
}

/** One file install touched, and how. */
export interface InstallChange {
  file: string;
  what: string;
  action: 'added' | 'already present' | 'removed' | 'restored original' | 'not present';
}

/** The heartbeat hook parallel-cc adds (PostToolUse: every tool call proves the session alive). */
export const HOOK_COMMAND = 'parallel-cc heartbeat --pid $PPID';
/** The MCP server entry name in settings.json. */
export const MCP_NAME = 'parallel-cc';
const ALIAS_BLOCK = "# >>> parallel-cc >>>\nalias claude='claude-parallel'\n# <<< parallel-cc <<<\n";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readOrUndefined(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new AppError('environment', `cannot read ${file}: ${e.message}`);
  });
}

function parseSettings(file: string, text: string | undefined): Json {
  if (text === undefined || text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AppError('usage', `${file} is not valid JSON (${(e as Error).message}); nothing was changed`, { hint: 'Fix the file by hand, then run install again.' });
  }
  if (!isObj(v)) throw new AppError('usage', `${file} must hold a JSON object; nothing was changed`);
  return v;
}

/** Our PostToolUse hook group, if present: matched by its command, so user hooks are never touched. */
function hookGroups(settings: Json): unknown[] {
  const hooks = isObj(settings.hooks) ? settings.hooks : {};
  return Array.isArray(hooks.PostToolUse) ? hooks.PostToolUse : [];
}
const isOurs = (g: unknown): boolean => isObj(g) && Array.isArray(g.hooks) && g.hooks.some((h) => isObj(h) && h.command === HOOK_COMMAND);

/** Adds (or with `uninstall`, removes) our hook and MCP entry in a Claude settings.json. */
function editSettings(settings: Json, t: { hooks: boolean; mcp: boolean }, uninstall: boolean): string[] {
  const changed: string[] = [];
  if (t.hooks) {
    const groups = hookGroups(settings);
    const present = groups.some(isOurs);
    if (!uninstall && !present) {
      const hooks = isObj(settings.hooks) ? settings.hooks : {};
      hooks.PostToolUse = [...groups, { matcher: '*', hooks: [{ type: 'command', command: HOOK_COMMAND }] }];
      settings.hooks = hooks;
      changed.push('heartbeat hook');
    }
    if (uninstall && present) {
      const hooks = settings.hooks as Json;
      const rest = groups.filter((g) => !isOurs(g));
      if (rest.length) hooks.PostToolUse = rest;
      else delete hooks.PostToolUse;
      if (Object.keys(hooks).length === 0) delete settings.hooks;
      changed.push('heartbeat hook');
    }
  }
  if (t.mcp) {
    const servers = isObj(settings.mcpServers) ? settings.mcpServers : {};
    const present = MCP_NAME in servers;
    if (!uninstall && !present) {
      servers[MCP_NAME] = { command: 'parallel-cc', args: ['mcp-serve'] };
      settings.mcpServers = servers;
      changed.push('MCP server');
    }
    if (uninstall && present) {
      delete servers[MCP_NAME];
      if (Object.keys(servers).length === 0) delete settings.mcpServers;
      changed.push('MCP server');
    }
  }
  return changed;
}

const backupOf = (file: string): string => `${file}.parallel-cc-backup`;

/**
 * Installs or removes parallel-cc's pieces: the heartbeat hook and MCP server entry in a Claude
 * settings.json, and the `claude` → `claude-parallel` alias in a shell rc. Idempotent; everything
 * else in those files is preserved; the first change keeps a byte copy of the original next to the
 * file, and an uninstall that leaves nothing of ours writes those original bytes back.
 */
export async function install(opts: { settingsFile: string; rcFiles: string[]; targets: InstallTargets; uninstall: boolean }): Promise<InstallChange[]> {
  const out: InstallChange[] = [];
  if (opts.targets.hooks || opts.targets.mcp) {
    const file = opts.settingsFile;
    const text = await readOrUndefined(file);
    const settings = parseSettings(file, text);
    const changed = editSettings(settings, opts.targets, opts.uninstall);
    const labels = [...(opts.targets.hooks ? ['heartbeat hook'] : []), ...(opts.targets.mcp ? ['MCP server'] : [])];
    if (changed.length && !opts.uninstall) {
      await mkdir(dirname(file), { recursive: true });
      if (text !== undefined) await copyFile(file, backupOf(file)).catch(() => undefined);
      await writeFile(file, `${JSON.stringify(settings, null, 2)}\n`);
    }
    if (changed.length && opts.uninstall) await writeBackOrOriginal(file, `${JSON.stringify(settings, null, 2)}\n`, (t) => JSON.stringify(parseSettings(file, t)) === JSON.stringify(settings));
    for (const l of labels) out.push({ file, what: l, action: changed.includes(l) ? (opts.uninstall ? 'removed' : 'added') : opts.uninstall ? 'not present' : 'already present' });
  }
  if (opts.targets.alias) {
    for (const file of opts.rcFiles) {
      const text = (await readOrUndefined(file)) ?? '';
      const present = text.includes(ALIAS_BLOCK);
      if (!opts.uninstall && !present) {
        if (text !== '') await copyFile(file, backupOf(file)).catch(() => undefined);
        await writeFile(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${ALIAS_BLOCK}`);
      }
      if (opts.uninstall && present) {
        const rest = text.replace(ALIAS_BLOCK, '');
        await writeBackOrOriginal(file, rest, (t) => t === rest || `${t}\n` === rest);
      }
      out.push({ file, what: 'alias claude=claude-parallel', action: present ? (opts.uninstall ? 'removed' : 'already present') : opts.uninstall ? 'not present' : 'added' });
    }
  }
  return out;
}

/** Writes `content`, or the original bytes from the backup when they say the same (exact restore). */
async function writeBackOrOriginal(file: string, content: string, sameAsBackup: (backup: string) => boolean): Promise<void> {
  const backup = await readOrUndefined(backupOf(file));
  if (backup !== undefined && sameAsBackup(backup)) {
    await writeFile(file, backup);
    await rm(backupOf(file), { force: true });
    return;
  }
  await writeFile(file, content);
}

/** What is installed where (for `install --status`). */
export async function installStatus(settingsFiles: string[], rcFiles: string[]): Promise<Array<{ file: string; what: string; installed: boolean }>> {
  const out: Array<{ file: string; what: string; installed: boolean }> = [];
  for (const file of settingsFiles) {
    const text = await readOrUndefined(file);
    let settings: Json = {};
    try {
      settings = parseSettings(file, text);
    } catch {
      // reported as not installed; install itself names the parse error
    }
    out.push({ file, what: 'heartbeat hook', installed: hookGroups(settings).some(isOurs) });
    out.push({ file, what: 'MCP server', installed: isObj(settings.mcpServers) && MCP_NAME in settings.mcpServers });
  }
  for (const file of rcFiles) out.push({ file, what: 'alias claude=claude-parallel', installed: ((await readOrUndefined(file)) ?? '').includes(ALIAS_BLOCK) });
  return out;
}

/** The shell rc files to edit: the current shell's, else every common one that exists. */
export function rcFilesFor(home: string, shell: string | undefined): string[] {
  if (shell?.endsWith('zsh')) return [join(home, '.zshrc')];
  if (shell?.endsWith('fish')) return [join(home, '.config', 'fish', 'config.fish')];
  return [join(home, '.bashrc')];
}
