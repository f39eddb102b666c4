/**
 * E2B runs every command as `bash -l -c <string>`, so the argv of a command is quoted here, once,
 * at the boundary: each element becomes one shell word, whatever it contains.
 */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** Joins an argv into one safely quoted shell command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** Files of one command inside the sandbox (all under the provider's private folder). */
export interface ScriptFiles {
  /** The command's stdin (uploaded before it starts), else /dev/null. */
  stdin?: string;
  /** Where stdout goes instead of the stream (collect mode). */
  stdout?: string;
  /** A copy of stdout (logName), its process group id and its exit code, for a later CLI. */
  log?: { out: string; pid: string; exit: string };
}

/**
 * The bash script that runs one command: always in its own session whose id is the command's pid
 * (so a kill of that group reaches everything it started — envd itself signals only the pid), stdin from a file, stdout streamed, collected into a file, or streamed and kept.
 * The exit code of the command itself is what the script exits with.
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
  // envd signals only the command's pid: in a session of its own (bash is no group leader, so
  // setsid forks nothing and the pid stays the command's), a kill of the group reaches its children.
  if (files.stdout) return `exec setsid -w ${cmd} ${input} > ${shellQuote(files.stdout)}`;
  return `exec setsid -w ${cmd} ${input}`;
}
