import { resolve } from 'node:path';
import type { Context } from '../../core/context.js';
import { LiveDashboard } from '../../core/dashboard/live.js';
import type { DashboardModel } from '../../core/dashboard/model.js';
import { AttentionWatch, notifyCommand } from '../../core/dashboard/notify.js';
import { AppError } from '../../errors.js';
import { shellWords } from '../../agents/command/words.js';
import { useColor } from '../render.js';
import { plainLines } from '../dashboard/format.js';
import { jsonLines, modelLine } from '../dashboard/json-lines.js';

/** The flags of `parallel-cc dashboard`. */
export interface DashboardFlags {
  json?: boolean;
  once?: boolean;
  web?: boolean;
  port?: string;
  notify?: string;
  budget?: string;
  idleMinutes?: string;
  all?: boolean;
  output?: string;
}

function positive(flag: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new AppError('usage', `${flag} must be a ${integer ? 'whole ' : ''}number ≥ 0 (got "${raw}")`);
  return n;
}

const untilAborted = (signal: AbortSignal): Promise<void> => new Promise((ok) => (signal.aborted ? ok() : signal.addEventListener('abort', () => ok(), { once: true })));

/**
 * `parallel-cc dashboard`: the live read model of every session (core/dashboard) as a TUI on a
 * terminal, a plain refreshing table otherwise, JSON (`--json`, `--once`), or a local web page
 * (`--web`). Returns the exit code; runs until q, Ctrl-C or (with --once) after one model.
 */
export async function dashboardCommand(flags: DashboardFlags, ctx: Context): Promise<number> {
  const port = positive('--port', flags.port, true);
  if (port !== undefined && port > 65535) throw new AppError('usage', `--port must be at most 65535 (got ${port})`);
  const budgetUsd = positive('--budget', flags.budget, false);
  const idleMinutes = positive('--idle-minutes', flags.idleMinutes, false);
  if (flags.notify !== undefined && shellWords(flags.notify).length === 0) throw new AppError('usage', '--notify needs a command, e.g. --notify "notify-send parallel-cc"');
  if (flags.web && flags.once) throw new AppError('usage', '--once prints the model once; it does not go with --web');
  const live = new LiveDashboard(ctx, { ...(budgetUsd !== undefined ? { budgetUsd } : {}), ...(idleMinutes !== undefined ? { idleMinutes } : {}), ...(flags.all ? { endedWithinMs: Infinity } : {}) });
  live.start();
  try {
    // One look waits for the ended sessions' diff stats (git), so it is complete.
    await live.settled();
    const first = live.refresh();
    if (flags.once) {
      ctx.stdout.write(flags.json ? modelLine(first) : `${plainLines(first).join('\n')}\n`);
      return 0;
    }
    const interactive = !flags.json && !flags.web && ctx.stdout.isTTY === true && process.stdin.isTTY;
    // The bell and --notify: when a session enters the attention lane (not for those already there).
    const notify = flags.notify !== undefined ? notifyCommand(flags.notify, ctx.env) : undefined;
    const watch = new AttentionWatch((item) => {
      if (interactive) ctx.stdout.write('\x07');
      else ctx.stderr.write(`\x07attention: ${item.id || 'fleet'} ${item.message}\n`);
      notify?.(item);
    });
    watch.update(first);
    live.subscribe((m) => watch.update(m));
    const downloadDir = resolve(ctx.cwd, flags.output ?? 'sandbox-results');
    if (flags.web) {
      const web = await (await import('../dashboard/web.js')).startWeb(live, ctx, { ...(port !== undefined ? { port } : {}), downloadDir });
      ctx.stdout.write(`${web.url}\n`);
      ctx.stderr.write('dashboard: open the URL above (it holds the access token; it is printed only once). Ctrl-C stops the dashboard, not the sessions.\n');
      await untilAborted(ctx.signal);
      await web.close();
      return 0;
    }
    if (flags.json) {
      // One model per line on every change: for scripts that watch.
      jsonLines(first, (fn) => live.subscribe(fn), (line) => ctx.stdout.write(line));
      await untilAborted(ctx.signal);
      return 0;
    }
    if (interactive) {
      await (await import('../dashboard/tui.js')).runTui(live, ctx, { color: useColor(ctx.stdout, ctx.env), downloadDir });
      return 0;
    }
    // Not a terminal: a plain table, printed again whenever what it shows changes (ages aside).
    let shown = '';
    const print = (m: DashboardModel): void => {
      const key = JSON.stringify([m.attention, m.rows.map((r) => [r.id, r.state, r.step, r.filesChanged, r.costUsd, r.commits])]);
      if (key === shown) return;
      shown = key;
      ctx.stdout.write(`--- ${m.generatedAt}\n${plainLines(m).join('\n')}\n`);
    };
    print(first);
    live.subscribe(print);
    await untilAborted(ctx.signal);
    return 0;
  } finally {
    live.stop();
  }
}
