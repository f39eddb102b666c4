/**
 * What the first SIGINT/SIGTERM means for the command being run. Commands that watch the abort
 * signal (a run, a follow, exec, reattach, watch-merges) stop cleanly; commands that change state
 * (kill, cleanup, install, …) finish first; every other command has nothing to save and stops at
 * once. The message names what is really being stopped.
 */
export interface SignalPlan {
  /** The first signal aborts the context instead of exiting. */
  graceful: boolean;
  message: (signal: string) => string;
}

/** The command of an argv (`sandbox run`, `status`, …), or '' for none. */
export function commandOf(argv: readonly string[]): string {
  const words: string[] = [];
  for (const a of argv) {
    if (a === '--' || a.startsWith('-')) break;
    words.push(a);
    if (words[0] !== 'sandbox' && words[0] !== 'config' && words[0] !== 'help' && words[0] !== 'workflow') break;
    if (words.length === 2) break;
  }
  return words.join(' ');
}

const AGAIN = '(press Ctrl-C again to quit at once)';

/** The signal plan of an argv (the process's own arguments, without node and the script). */
export function signalPlan(argv: readonly string[]): SignalPlan {
  const cmd = commandOf(argv);
  const upTo = argv.indexOf('--') === -1 ? argv : argv.slice(0, argv.indexOf('--'));
  const has = (flag: string): boolean => upTo.includes(flag);
  const stopping = (what: string): SignalPlan => ({ graceful: true, message: (s) => `parallel-cc: ${s} received, ${what} ${AGAIN}` });
  switch (cmd) {
    case 'sandbox run':
    case 'sandbox-run':
      if (has('--dry-run')) break;
      return stopping(has('--multi') ? 'stopping every task and saving the work so far' : 'stopping the sandbox and saving the work so far');
    case 'sandbox exec':
      return stopping('stopping the command in the sandbox');
    case 'workflow run':
      return stopping('stopping the workflow\'s sandbox and saving the work so far; no further attempt starts');
    case 'workflow serve':
      return stopping('no new triggers are taken; stopping the running workflows and saving their work');
    case 'sandbox logs':
    case 'sandbox-logs':
      if (has('--follow')) return stopping('no longer following the log (the session goes on)');
      break;
    case 'sandbox reattach':
    case 'sandbox-reattach':
      return stopping('no longer following the agent (reattach again later to bring its work back)');
    case 'watch-merges':
      return stopping('no longer watching for merges');
    case 'dashboard':
      return stopping('closing the dashboard (the sessions go on)');
    // These change the registry, worktrees or settings: cut short, they would leave half a change.
    case 'sandbox kill':
    case 'sandbox-kill':
    case 'cleanup':
    case 'register':
    case 'release':
    case 'heartbeat':
    case 'install':
      return { graceful: true, message: (s) => `parallel-cc: ${s} received, finishing \`parallel-cc ${cmd}\` first ${AGAIN}` };
    default:
      break;
  }
  const name = cmd ? `parallel-cc ${cmd}` : 'parallel-cc';
  return { graceful: false, message: (s) => `parallel-cc: ${s} received, \`${name}\` stopped` };
}
