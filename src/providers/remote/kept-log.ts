import { shellJoin, shellQuote } from './quote.js';

/** Files of one command inside the sandbox (all under the provider's private folder). */
export interface ScriptFiles {
  /** The command's stdin (uploaded before it starts), else /dev/null. */
  stdin?: string;
  /** Where stdout goes instead of the stream (collect mode). */
  stdout?: string;
  /** A copy of stdout (logName), its process group id and its exit code, for a later CLI. */
  log?: KeptLogFiles;
}

/** Where a kept command (ExecRequest.logName) leaves its output, process group id and exit code. */
export interface KeptLogFiles {
  out: string;
  pid: string;
  exit: string;
}

/** The files of the kept log `name` in the provider's private folder `stateDir` inside the sandbox. */
export function keptLogFiles(stateDir: string, name: string): KeptLogFiles {
  return { out: `${stateDir}/${name}.out`, pid: `${stateDir}/${name}.pid`, exit: `${stateDir}/${name}.exit` };
}

/**
 * The bash script that runs one command: always in its own session whose id is the command's pid
 * (so a kill of that group reaches everything it started — a vendor's agent often signals only the
 * pid), stdin from a file, stdout streamed, collected into a file, or streamed and kept.
 * The exit code of the command itself is what the script exits with. Needs bash, setsid and tee.
 */
export function commandScript(argv: readonly string[], files: ScriptFiles): string {
  const input = `< ${shellQuote(files.stdin ?? '/dev/null')}`;
  const cmd = shellJoin(argv);
  if (files.log) {
    const { out, pid, exit } = files.log;
    // `setsid` makes the inner bash a process-group leader; its pid is the group to kill and the
    // process `tail --pid` waits for. pipefail: the exit code is the command's, not tee's.
    const inner = `echo $$ > ${shellQuote(pid)}; set -o pipefail; ${cmd} ${input} | tee -a ${shellQuote(out)}; code=$?; echo $code > ${shellQuote(exit)}; exit $code`;
    return `exec setsid -w bash -c ${shellQuote(inner)}`;
  }
  // In a session of its own (bash is no group leader, so setsid forks nothing and the pid stays
  // the command's), a kill of the group reaches its children.
  if (files.stdout) return `exec setsid -w ${cmd} ${input} > ${shellQuote(files.stdout)}`;
  return `exec setsid -w ${cmd} ${input}`;
}

/** The shell line that kills a command's whole process group (read from its pid file, or given). */
export function killGroupScript(group: { pidFile: string } | { pid: number }): string {
  const pg = 'pidFile' in group ? `$(cat ${shellQuote(group.pidFile)} 2>/dev/null)` : String(group.pid);
  return `pg=${pg}; [ -n "$pg" ] && kill -KILL -- "-$pg" 2>/dev/null; true`;
}
