import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, takeVerbose } from '../../src/cli/program.js';
import { checkOutputDir, checkOutputFile } from '../../src/cli/output-path.js';
import { commandOf, signalPlan } from '../../src/cli/signals.js';
import { EXAMPLES } from '../../src/cli/help-examples.js';
import { completionEntries } from '../../src/cli/completion.js';
import { durationMinutes } from '../../src/config/duration.js';
import { loadConfig } from '../../src/config/load.js';
import { describeExcluded } from '../../src/core/sync/exclusions.js';
import type { Context } from '../../src/core/context.js';
import { tempDir } from '../helpers/git-repo.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = (): string => {
  const d = tempDir('pcc-ux-unit-');
  dirs.push(d);
  return d;
};

describe('output paths', () => {
  it('refuse /proc, /sys and /dev folders, files in the way and missing parents, creating nothing', async () => {
    const d = temp();
    writeFileSync(join(d, 'f'), 'x');
    await expect(checkOutputDir('--output', '/proc/x/y')).rejects.toMatchObject({ kind: 'usage', message: '--output /proc/x/y: is inside /proc, a kernel pseudo-filesystem, not a place for files' });
    await expect(checkOutputDir('--output', '/sys/kernel/x')).rejects.toMatchObject({ kind: 'usage' });
    await expect(checkOutputDir('--output', '/dev/null/x')).rejects.toMatchObject({ kind: 'usage' });
    await expect(checkOutputDir('--output', join(d, 'f'))).rejects.toMatchObject({ message: `--output ${join(d, 'f')}: exists and is not a folder` });
    await expect(checkOutputDir('--output', join(d, 'f', 'a', 'b'))).rejects.toMatchObject({ message: `--output ${join(d, 'f', 'a', 'b')}: ${join(d, 'f')} is a file, not a folder` });
    await expect(checkOutputDir('--output', join(d, 'new', 'deeper'))).resolves.toBe(join(d, 'new', 'deeper'));
    await expect(checkOutputFile('--save', join(d, 'missing', 'x.log'))).rejects.toMatchObject({ kind: 'usage', hint: expect.stringContaining('mkdir -p') as unknown });
    await expect(checkOutputFile('--save', d)).rejects.toMatchObject({ message: `--save ${d}: is a folder, not a file` });
    await expect(checkOutputFile('--save', '/proc/self/x')).rejects.toMatchObject({ kind: 'usage' });
    await expect(checkOutputFile('--save', join(d, 'new.log'))).resolves.toBe(join(d, 'new.log'));
    await expect(checkOutputFile('--save', join(d, 'f'))).resolves.toBe(join(d, 'f'));
    await expect(checkOutputFile('--save', '/dev/null')).resolves.toBe('/dev/null');
    expect(readdirSync(d)).toEqual(['f']);
  });

  it('see through a symlink into /proc', async () => {
    const d = temp();
    const { symlinkSync } = await import('node:fs');
    symlinkSync('/proc/self', join(d, 'p'));
    await expect(checkOutputDir('--output', join(d, 'p', 'x'))).rejects.toMatchObject({ kind: 'usage', message: expect.stringContaining('inside /proc') as unknown });
  });
});

describe('signals', () => {
  it('name the command that is stopped; only commands that save or follow stop gracefully', () => {
    expect(commandOf(['sandbox', 'run', '--prompt', 'x'])).toBe('sandbox run');
    expect(commandOf(['status', '--all'])).toBe('status');
    expect(commandOf(['config', 'keys'])).toBe('config keys');
    expect(signalPlan(['sandbox', 'run', '--prompt', 'x'])).toMatchObject({ graceful: true });
    expect(signalPlan(['sandbox', 'run', '--prompt', 'x']).message('SIGINT')).toContain('stopping the sandbox and saving the work so far');
    expect(signalPlan(['sandbox', 'run', '--multi', '--task', 'a']).message('SIGTERM')).toContain('stopping every task');
    expect(signalPlan(['sandbox', 'logs', 'ab', '--follow']).message('SIGTERM')).toContain('no longer following the log');
    const dl = signalPlan(['sandbox', 'download', 'ab', '--output', '/tmp/x']);
    expect(dl.graceful).toBe(false);
    expect(dl.message('SIGTERM')).toBe('parallel-cc: SIGTERM received, `parallel-cc sandbox download` stopped');
    expect(signalPlan(['cleanup'])).toMatchObject({ graceful: true });
    expect(signalPlan(['cleanup']).message('SIGTERM')).toBe('parallel-cc: SIGTERM received, finishing `parallel-cc cleanup` first (press Ctrl-C again to quit at once)');
    // After `--` nothing counts: a command line of exec is not a --multi run.
    expect(signalPlan(['sandbox', 'exec', '--', 'x', '--multi']).message('SIGINT')).toContain('stopping the command in the sandbox');
  });
});

describe('--verbose', () => {
  it('is taken from before -- only', () => {
    expect(takeVerbose(['sandbox', 'exec', '--', 'echo', 'hi', '--verbose'])).toEqual({ verbose: false, argv: ['sandbox', 'exec', '--', 'echo', 'hi', '--verbose'] });
    expect(takeVerbose(['--verbose', 'sandbox', 'exec', '--', 'echo', '--verbose'])).toEqual({ verbose: true, argv: ['sandbox', 'exec', '--', 'echo', '--verbose'] });
    expect(takeVerbose(['sandbox', 'run', '--verbose', '--dry-run'])).toEqual({ verbose: true, argv: ['sandbox', 'run', '--dry-run'] });
  });
});

describe('durations', () => {
  it('plain numbers keep the unit of their place; 30m and 1800s mean the same everywhere', () => {
    expect(durationMinutes('30m', 's')).toBe(30);
    expect(durationMinutes('1800s', 'm')).toBe(30);
    expect(durationMinutes('1h', 'm')).toBe(60);
    expect(durationMinutes('1800', 's')).toBe(30);
    expect(durationMinutes('30', 'm')).toBe(30);
    expect(durationMinutes('soon', 'm')).toBeUndefined();
    const d = temp();
    for (const [file, env] of [[{ timeoutMinutes: '1800s' }, {}], [{ timeoutMinutes: 30 }, {}], [{}, { PARALLEL_CC_SANDBOX_TIMEOUT: '30m' }], [{}, { PARALLEL_CC_SANDBOX_TIMEOUT: '1800' }]] as const) {
      writeFileSync(join(d, 'sandbox.json'), JSON.stringify(file));
      expect(loadConfig({ home: d, env }).config.timeoutMinutes).toBe(30);
    }
    writeFileSync(join(d, 'sandbox.json'), JSON.stringify({ timeoutMinutes: '2h' }));
    expect(() => loadConfig({ home: d, env: {} })).toThrow(/timeoutMinutes/);
  });

  it('an unknown key lists the valid keys at its level', () => {
    const d = temp();
    writeFileSync(join(d, 'sandbox.json'), JSON.stringify({ timeout: 5 }));
    expect(() => loadConfig({ home: d, env: {} })).toThrow(/Unrecognized key\(s\) in object: 'timeout' \(valid keys: defaultProvider, timeoutMinutes, autoCleanup, .*providers\)/);
  });
});

describe('the upload line', () => {
  it('counts each excluded path once and names the secrets', () => {
    expect(describeExcluded([])).toBe('0 excluded');
    expect(
      describeExcluded([
        { path: '.env', reason: 'secret' },
        { path: '.env', reason: 'secret' },
        { path: 'dist/x.js', reason: 'gitignore' },
        { path: 'big.bin', reason: 'e2bignore' },
      ]),
    ).toBe('3 excluded: 1 secret (.env), 2 ignored');
  });
});

function ctx(): { ctx: Context; out: () => string } {
  let buf = '';
  const sink = { write: (s: string) => ((buf += s), true) };
  return { ctx: { cwd: '/', env: {}, home: '/nonexistent-home', now: () => new Date(0), stdout: sink, stderr: sink, signal: new AbortController().signal }, out: () => buf };
}

describe('help', () => {
  it('every visible command has 1–3 examples, and completion sees the same commands', () => {
    const c = ctx();
    const program = buildProgram(c.ctx, () => undefined);
    const paths = completionEntries(program).map((e) => e.path.join(' '));
    expect(paths).toEqual(expect.arrayContaining(['sandbox run', 'sandbox logs', 'sandbox exec', 'sandbox reattach', 'config keys', 'install', 'mcp-serve', 'merge-status', 'watch-merges']));
    expect(paths.filter((p) => p.startsWith('sandbox-') || p.startsWith('__'))).toEqual([]);
    for (const p of paths) {
      const ex = EXAMPLES[p];
      expect(ex?.length, p).toBeGreaterThanOrEqual(1);
      expect(ex?.length, p).toBeLessThanOrEqual(3);
      let cmd = program;
      for (const w of p.split(' ')) cmd = cmd.commands.find((x) => x.name() === w) ?? cmd;
      const before = c.out().length;
      cmd.outputHelp();
      const text = c.out().slice(before);
      expect(text, p).toContain(`\nExamples:\n  $ ${ex?.[0] ?? ''}`);
    }
  });
});
