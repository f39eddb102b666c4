import type { Command } from 'commander';

/** Declares the `sandbox run` flags of #27 (specs 000/001/003); which ones `--multi` takes is said in each help. */
export function addSessionOptions(cmd: Command): Command {
  return cmd
    .option('--working-dir <path>', 'the agent\'s working folder inside the sandbox (default /workspace; native and docker; other providers fix it); absolute, not / nor below /proc, /sys, /dev, /etc, /usr, /tmp…; --multi too')
    .option('--worktree <name|path>', 'continue an existing session worktree and its branch (a session id, its branch, or its worktree path) instead of creating one; refused when it has uncommitted changes unless --include-dirty; not with --multi')
    .option('--include-dirty', 'with --worktree: carry the worktree\'s uncommitted changes (minus secrets) into the run as one commit, as a new run does with yours')
    .option('--branch <name>', 'the session branch instead of parallel-cc/<id>; must be a valid, new branch name; not with --multi')
    .option('--git-user <name>', 'author name of the agent\'s commits (default: your git user.name); --multi too')
    .option('--git-email <email>', 'author email of the agent\'s commits (default: your git user.email); --multi too')
    .option('--upload-repo', 'also upload the base\'s git history (a bundle), so git log/blame work inside the sandbox; the whole history goes in, including files the upload excludes from the tree (e.g. secrets once committed); results still come back only through the validated import; --multi too')
    .option('--focus-phase <n>', 'with --prompt-file: run only phase n of the plan (the markdown heading containing "Phase n", any level, through the next phase heading); not with --multi');
}
