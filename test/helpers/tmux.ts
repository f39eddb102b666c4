import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './git-repo.js';

/** tmux is installed (the TTY tests need it). */
export const tmuxReady = (): boolean => spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * A private tmux server (own socket, own config) with one 200×50 pane running `sh`, whose raw output
 * bytes are recorded by `pipe-pane`. The server honours OSC 52 (`set-clipboard on`) and titles, so a
 * test can check that nothing set them. `close()` kills the server and removes its files.
 */
export interface Tmux {
  /** Types a command line into the pane's shell and presses Enter. */
  type(line: string): void;
  /** Presses a key (tmux key name, e.g. `C-c`). */
  key(name: string): void;
  /** The visible screen plus history, as text (`-e`: with the escape sequences of attributes). */
  capture(opts?: { escapes?: boolean; history?: boolean }): string;
  /** Everything written to the pane so far, as bytes. */
  raw(): Buffer;
  /** tmux `display -p` of a format, e.g. `#{pane_title}`. */
  display(format: string): string;
  /** The paste buffers (OSC 52 would have created one). */
  buffers(): string;
  /** Waits until the pane's process has exited (`exec` the command so its end ends the pane). */
  waitDead(timeoutMs: number): Promise<void>;
  close(): void;
}

/** Starts the tmux server; `env` is the environment of the pane's shell. */
export function startTmux(env: NodeJS.ProcessEnv): Tmux {
  const dir = tempDir('pcc-tmux-');
  const socket = join(dir, 'sock');
  const conf = join(dir, 'tmux.conf');
  const rawFile = join(dir, 'pane.raw');
  writeFileSync(conf, ['set -g remain-on-exit on', 'set -g set-clipboard on', 'set -g allow-rename on', 'set -g history-limit 50000', 'set -g status off', ''].join('\n'));
  writeFileSync(rawFile, '');
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  const session = `t${randomBytes(4).toString('hex')}`;
  tmux('-f', conf, 'new-session', '-d', '-x', '200', '-y', '50', '-s', session, 'sh');
  // pipe-pane's argument is a shell command by tmux's design; the path is our own temp file.
  tmux('pipe-pane', '-t', session, '-o', `cat >> '${rawFile}'`);
  return {
    type: (line) => {
      tmux('send-keys', '-t', session, '-l', line);
      tmux('send-keys', '-t', session, 'Enter');
    },
    key: (name) => void tmux('send-keys', '-t', session, name),
    capture: (o = {}) => tmux('capture-pane', '-p', '-J', '-t', session, ...(o.escapes ? ['-e'] : []), ...(o.history === false ? [] : ['-S', '-'])),
    raw: () => readFileSync(rawFile),
    display: (format) => tmux('display-message', '-p', '-t', session, format).trimEnd(),
    buffers: () => tmux('list-buffers'),
    waitDead: async (timeoutMs) => {
      const end = Date.now() + timeoutMs;
      while (tmux('display-message', '-p', '-t', session, '#{pane_dead}').trim() !== '1') {
        if (Date.now() > end) throw new Error(`pane still running after ${timeoutMs} ms:\n${tmux('capture-pane', '-p', '-J', '-t', session, '-S', '-')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // pipe-pane's cat may still be flushing.
      await new Promise((r) => setTimeout(r, 300));
    },
    close: () => {
      if (existsSync(socket)) spawnSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
