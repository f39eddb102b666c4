import type { Command } from 'commander';

/** 1–3 examples per command, shown at the end of its --help. Keyed by the command's words. */
export const EXAMPLES: Record<string, string[]> = {
  sandbox: ['parallel-cc sandbox run --prompt "Fix the failing test"', 'parallel-cc sandbox logs 8496 --follow'],
  'sandbox run': [
    'parallel-cc sandbox run --prompt "Add input validation to src/api.ts"',
    'parallel-cc sandbox run --prompt-file PLAN.md --provider docker --timeout 30m',
    'parallel-cc sandbox run --multi --task "Write tests for a.ts" --task "Write tests for b.ts"',
  ],
  'sandbox logs': ['parallel-cc sandbox logs 8496 --follow', 'parallel-cc sandbox logs 8496 --egress', 'parallel-cc sandbox logs 8496 --save run.ndjson'],
  'sandbox download': ['parallel-cc sandbox download 8496', 'parallel-cc sandbox download 8496 --all --output ./snapshot', "parallel-cc sandbox download 8496 --filter '*.ts'"],
  'sandbox kill': ['parallel-cc sandbox kill 8496', 'parallel-cc sandbox kill 8496 --keep-worktree'],
  'sandbox health': ['parallel-cc sandbox health 8496', 'parallel-cc sandbox health 8496 --json'],
  'sandbox reattach': ['parallel-cc sandbox reattach 8496'],
  'sandbox resume': ['parallel-cc sandbox resume --session-id 8496 --prompt "Now add the tests"', 'parallel-cc sandbox resume --session-id 8496 --prompt-file NEXT.md'],
  'sandbox exec': ['parallel-cc sandbox exec -- uname -a', 'parallel-cc sandbox exec --repo . -- npm test', 'parallel-cc sandbox exec --provider docker -- sh -c "id; ls"'],
  components: ['parallel-cc components list --kind agent', 'parallel-cc components show agent development/frontend-developer'],
  'components list': ['parallel-cc components list', 'parallel-cc components list --kind command --json'],
  'components show': ['parallel-cc components show agent development/frontend-developer', 'parallel-cc components show command ./my-command.md'],
  'components cache': ['parallel-cc components cache', 'parallel-cc components cache --clear'],
  dashboard: ['parallel-cc dashboard', 'parallel-cc dashboard --web --port 8777', 'parallel-cc dashboard --json --once'],
  history: ['parallel-cc history --since 7d', 'parallel-cc history --stats --json', 'parallel-cc history --status failed --repo .'],
  templates: ['parallel-cc templates list', 'parallel-cc templates show python'],
  'templates list': ['parallel-cc templates list', 'parallel-cc templates list --json'],
  'templates show': ['parallel-cc templates show python', 'parallel-cc templates show ./my-template.json --json'],
  status: ['parallel-cc status', 'parallel-cc status --all --repo .', 'parallel-cc status --json'],
  doctor: ['parallel-cc doctor', 'parallel-cc doctor --sandbox --json'],
  cleanup: ['parallel-cc cleanup --dry-run', 'parallel-cc cleanup', 'parallel-cc cleanup --merged'],
  merge: ['parallel-cc merge --group 3f2a --check "npm test" --dry-run', 'parallel-cc merge 8496 a1b2 --into main --strategy squash', 'parallel-cc merge --group 3f2a --check "npm test"'],
  conflicts: ['parallel-cc conflicts', 'parallel-cc conflicts --group 3f2a --json'],
  pr: ['parallel-cc pr 8496', 'parallel-cc pr 8496 --title "Add validation" --draft'],
  config: ['parallel-cc config show', 'parallel-cc config keys'],
  'config show': ['parallel-cc config show', 'parallel-cc config show --json'],
  'config keys': ['parallel-cc config keys', 'parallel-cc config keys --json'],
  completion: ['eval "$(parallel-cc completion bash)"', 'eval "$(parallel-cc completion zsh)"', 'parallel-cc completion fish | source'],
  register: ['parallel-cc register --repo . --pid $$'],
  release: ['parallel-cc release --pid $$'],
  heartbeat: ['parallel-cc heartbeat --pid $PPID'],
  install: ['parallel-cc install --all', 'parallel-cc install --hooks --local', 'parallel-cc install --status'],
  'mcp-serve': ['claude mcp add parallel-cc -- parallel-cc mcp-serve'],
  'merge-status': ['parallel-cc merge-status', 'parallel-cc merge-status --base main --json'],
  workflow: ['parallel-cc workflow create nightly --prompt "Fix lint errors" --retries 3', 'parallel-cc workflow run nightly'],
  'workflow create': ['parallel-cc workflow create nightly --prompt-file PLAN.md --provider docker --timeout 30m', 'parallel-cc workflow create fixes --multi --task-file tasks.txt --scope repo', 'parallel-cc workflow create flaky --prompt "Run the tests" --retries 3 --retry-delay 10'],
  'workflow list': ['parallel-cc workflow list', 'parallel-cc workflow list --json'],
  'workflow show': ['parallel-cc workflow show nightly', 'parallel-cc workflow show nightly --secret'],
  'workflow rm': ['parallel-cc workflow rm nightly'],
  'workflow run': ['parallel-cc workflow run nightly', 'parallel-cc workflow run nightly --set timeout=10m --set provider=docker'],
  'workflow schedule': ['parallel-cc workflow schedule nightly --cron "0 3 * * *"', 'parallel-cc workflow schedule nightly --remove'],
  'workflow serve': ['parallel-cc workflow serve --port 8787', 'parallel-cc workflow show nightly --secret'],
  'watch-merges': ['parallel-cc watch-merges', 'parallel-cc watch-merges --once --base main'],
};

/** Appends the examples of {@link EXAMPLES} to every visible command's --help (and the top-level help). */
export function addExamples(program: Command): void {
  const help = program.createHelp();
  const visit = (cmd: Command, path: string[]): void => {
    for (const sub of help.visibleCommands(cmd)) {
      if (sub.name() === 'help') continue;
      const p = [...path, sub.name()];
      const ex = EXAMPLES[p.join(' ')];
      if (ex) sub.addHelpText('after', `\nExamples:\n${ex.map((e) => `  $ ${e}`).join('\n')}\n`);
      visit(sub, p);
    }
  };
  visit(program, []);
  program.addHelpText('after', `\nExamples:\n  $ parallel-cc sandbox run --prompt "Fix the failing test"\n  $ parallel-cc status\n  $ parallel-cc help sandbox run\n`);
}
