import type { Command } from 'commander';

/** One command as completion sees it: its words (`['sandbox', 'logs']`), flags, and whether it takes a session. */
export interface CompletionEntry {
  path: string[];
  flags: string[];
  session: boolean;
}

/** Reads the completion entries from the commander program (visible commands and options only). */
export function completionEntries(program: Command): CompletionEntry[] {
  const help = program.createHelp();
  const out: CompletionEntry[] = [];
  const visit = (cmd: Command, path: string[]): void => {
    for (const sub of help.visibleCommands(cmd)) {
      if (sub.name() === 'help') continue;
      const p = [...path, sub.name()];
      const flags = help.visibleOptions(sub).flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === 'string'));
      out.push({ path: p, flags, session: sub.registeredArguments.some((a) => a.name() === 'session') });
      visit(sub, p);
    }
  };
  visit(program, []);
  return out;
}

// Live session ids come from the CLI itself, read-only, at completion time.
const SESSIONS = 'parallel-cc __sessions 2>/dev/null';

function bash(entries: CompletionEntry[]): string {
  const top = entries.filter((e) => e.path.length === 1).map((e) => e.path[0]);
  const groups = entries.filter((e) => e.path.length === 1 && entries.some((x) => x.path.length === 2 && x.path[0] === e.path[0])).map((e) => e.path[0] as string);
  const subsOf = (g: string): string => entries.filter((e) => e.path.length === 2 && e.path[0] === g).map((e) => e.path[1]).join(' ');
  const cases = entries.map((e) => `    "${e.path.join(' ')}") opts="${e.flags.join(' ')}"; session=${e.session ? 1 : 0} ;;`).join('\n');
  return `_parallel_cc() {
  # $2/$3 (the word and the one before it) and \${a[@]:off:len} slices work the same in bash and in
  # zsh's bashcompinit, whose arrays are otherwise 1-based.
  local cur="$2" prev="$3" cmd="" w opts="" session=0
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) continue ;; esac
    if [ -z "$cmd" ]; then cmd="$w"; case " ${groups.join(' ')} " in *" $w "*) ;; *) break ;; esac
    else cmd="$cmd $w"; break; fi
  done
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur")); return ;;
${groups.map((g) => `    ${g}) COMPREPLY=($(compgen -W "${subsOf(g)}" -- "$cur")); return ;;`).join('\n')}
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return ;;
  esac
  if [ "$prev" = --session-id ]; then COMPREPLY=($(compgen -W "$(${SESSIONS})" -- "$cur")); return; fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ "$session" = 1 ]; then COMPREPLY=($(compgen -W "$(${SESSIONS})" -- "$cur"))
  else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _parallel_cc parallel-cc
`;
}

function fish(entries: CompletionEntry[]): string {
  const top = entries.filter((e) => e.path.length === 1).map((e) => e.path[0] as string);
  const lines = [`# parallel-cc fish completion: parallel-cc completion fish | source`, `complete -c parallel-cc -f -n '__fish_use_subcommand' -a '${top.join(' ')}'`];
  for (const g of top) {
    const subs = entries.filter((e) => e.path.length === 2 && e.path[0] === g).map((e) => e.path[1] as string);
    if (subs.length) lines.push(`complete -c parallel-cc -f -n '__fish_seen_subcommand_from ${g}; and not __fish_seen_subcommand_from ${subs.join(' ')}' -a '${subs.join(' ')}'`);
  }
  lines.push(`complete -c parallel-cc -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  for (const e of entries) {
    const cond = e.path.length === 2 ? `__fish_seen_subcommand_from ${e.path[0] ?? ''}; and __fish_seen_subcommand_from ${e.path[1] ?? ''}` : `__fish_seen_subcommand_from ${e.path[0] ?? ''}`;
    for (const f of e.flags) {
      const spec = f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`;
      lines.push(`complete -c parallel-cc -n '${cond}' ${spec}${f === '--session-id' ? ` -x -a '(${SESSIONS})'` : ''}`);
    }
    if (e.session) lines.push(`complete -c parallel-cc -f -n '${cond}' -a '(${SESSIONS})'`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `parallel-cc completion bash|zsh|fish`: a completion script for commands, their flags and live
 * session ids, generated from the program itself so it cannot drift from the real commands. zsh
 * runs the bash function through bashcompinit.
 */
export function completionScript(shell: string, program: Command): string {
  const entries = completionEntries(program);
  switch (shell) {
    case 'bash':
      return `# parallel-cc bash completion: eval "$(parallel-cc completion bash)"\n${bash(entries)}`;
    case 'zsh':
      return `#compdef parallel-cc\n# parallel-cc zsh completion: eval "$(parallel-cc completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${bash(entries)}`;
    case 'fish':
      return fish(entries);
    default:
      throw new Error(shell);
  }
}
