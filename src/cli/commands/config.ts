import { resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { Context } from '../../core/context.js';
import { repoRoot } from '../../core/git.js';

/** One effective setting and the layer it came from. */
export interface ConfigEntry {
  key: string;
  value: unknown;
  source: string;
}

function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/** `parallel-cc config show`: the effective configuration with the source of every value. */
export async function configShowCommand(flags: { repo?: string }, ctx: Context): Promise<{ entries: ConfigEntry[] }> {
  const root = await repoRoot(resolve(ctx.cwd, flags.repo ?? '.')).catch(() => undefined);
  const { config, sources } = loadConfig({ home: ctx.home, ...(root ? { repoRoot: root } : {}), env: ctx.env });
  return { entries: flatten(config).map(([key, value]) => ({ key, value, source: sources[key] ?? 'default' })) };
}

const COMMANDS = ['sandbox run', 'sandbox logs', 'sandbox download', 'sandbox kill', 'sandbox health', 'status', 'doctor', 'cleanup', 'config show', 'completion'];

/** `parallel-cc completion bash|zsh|fish`: a completion script for the shell. */
export function completionScript(shell: string): string {
  const top = [...new Set(COMMANDS.map((c) => c.split(' ')[0]))].join(' ');
  const sub = 'run logs download kill health';
  switch (shell) {
    case 'bash':
      return `# parallel-cc bash completion: eval "$(parallel-cc completion bash)"
_parallel_cc() {
  local cur prev; cur="\${COMP_WORDS[COMP_CWORD]}"; prev="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "${top}" -- "$cur"));
  elif [ "$prev" = sandbox ] && [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "${sub}" -- "$cur"));
  elif [ "$prev" = completion ]; then COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); fi
}
complete -F _parallel_cc parallel-cc
`;
    case 'zsh':
      return `#compdef parallel-cc
# parallel-cc zsh completion: eval "$(parallel-cc completion zsh)"
_parallel_cc() {
  if (( CURRENT == 2 )); then compadd ${top};
  elif [[ $words[2] == sandbox && CURRENT == 3 ]]; then compadd ${sub};
  elif [[ $words[2] == completion ]]; then compadd bash zsh fish; fi
}
compdef _parallel_cc parallel-cc
`;
    case 'fish':
      return `# parallel-cc fish completion: parallel-cc completion fish | source
complete -c parallel-cc -f -n '__fish_use_subcommand' -a '${top}'
complete -c parallel-cc -f -n '__fish_seen_subcommand_from sandbox' -a '${sub}'
complete -c parallel-cc -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
`;
    default:
      throw new Error(shell);
  }
}
