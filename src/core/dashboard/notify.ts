import { spawn } from 'node:child_process';
import { shellWords } from '../../agents/command/words.js';
import type { AttentionItem, DashboardModel } from './model.js';

/**
 * Tells the user when a session enters the attention lane: `onEnter` once per session and reason
 * (not again while it stays there). The sessions already there when the dashboard opens are known,
 * not news.
 */
export class AttentionWatch {
  private seen: Set<string> | undefined;

  constructor(private readonly onEnter: (item: AttentionItem) => void) {}

  /** Feeds a new model; calls onEnter for each new entry. */
  update(m: DashboardModel): void {
    const keys = new Set(m.attention.map((a) => `${a.id}:${a.reason}`));
    if (this.seen) for (const a of m.attention) if (!this.seen.has(`${a.id}:${a.reason}`)) this.onEnter(a);
    this.seen = keys;
  }
}

/**
 * The `--notify "<cmd>"` hook: the command line is split into words once (quotes as a shell would,
 * no expansion) and run without a shell; what happened is in its environment, never in its argv,
 * so session text cannot become an argument or a command.
 */
export function notifyCommand(line: string, env: NodeJS.ProcessEnv): (item: AttentionItem) => void {
  const argv = shellWords(line);
  return (item) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) return;
    const child = spawn(cmd, args, {
      stdio: 'ignore',
      env: { ...env, PARALLEL_CC_ATTENTION_SESSION: item.id, PARALLEL_CC_ATTENTION_TASK: item.taskId ?? '', PARALLEL_CC_ATTENTION_REASON: item.reason, PARALLEL_CC_ATTENTION_MESSAGE: item.message },
    });
    child.on('error', () => undefined); // a missing program must not take the dashboard down
    child.unref();
  };
}
