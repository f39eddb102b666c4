/**
 * The bubblewrap command line for one command in a native sandbox, built as plain data so it can be
 * unit-tested as data. Every flag has a reason next to it.
 */

/** A host path made visible inside the sandbox. */
export interface Mount {
  kind: 'ro-bind' | 'bind' | 'symlink' | 'ro-bind-try' | 'tmpfs';
  /** Host path (for binds), link target (for symlinks); unused for an empty `tmpfs` (a mask over a folder). */
  src: string;
  dest: string;
}

/** Everything {@link bwrapArgv} needs. */
export interface BwrapPlan {
  /** System folders (/usr, /bin, /lib…) as the host has them: real dirs are bound read-only, merged-/usr links recreated. */
  system: Mount[];
  /** Extra mounts: workspace (rw), home (rw), agent binary, init script, sockets (ro). */
  mounts: Mount[];
  uid: number;
  gid: number;
  hostname: string;
  cwd: string;
  env: Record<string, string>;
  argv: readonly string[];
}

/** The /etc entries a sandboxed toolchain needs; nothing else of the host's /etc is visible. */
export const ETC_ENTRIES: readonly string[] = [
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'ssl',
  'ca-certificates',
  'ca-certificates.conf',
  'nsswitch.conf',
  'localtime',
  'timezone',
  'mime.types',
  'protocols',
  'services',
  'os-release',
  'debian_version',
  'bash.bashrc',
  'profile',
  'inputrc',
];

/** The file descriptor bwrap reads its options from (`--args 3`). */
export const ARGS_FD = 3;

/**
 * How one sandboxed command is started: a short, fixed argv plus the options bwrap reads from a
 * file descriptor. bwrap's own argv stays readable inside the sandbox as /proc/1/cmdline (pid 1 is
 * bwrap's forked child), so every mount source, environment value and uid mapping goes through
 * `--args` instead; only the command itself — which names sandbox paths only — is on the argv.
 */
export interface BwrapCommand {
  /** `bwrap --args 3 -- <command…>` */
  argv: string[];
  /** The options, in order; {@link encodeArgs} turns them into what fd 3 carries. */
  options: string[];
}

/** Builds the command for a plan (see {@link BwrapCommand}). */
export function bwrapCommand(plan: BwrapPlan): BwrapCommand {
  return { argv: ['bwrap', '--args', String(ARGS_FD), '--', ...plan.argv], options: bwrapOptions(plan) };
}

/** The options as bwrap's `--args` expects them: each one NUL-terminated. */
export function encodeArgs(options: readonly string[]): Buffer {
  for (const o of options) if (o.includes('\0')) throw new Error(`a bwrap option cannot contain NUL: ${JSON.stringify(o)}`);
  return Buffer.from(options.map((o) => `${o}\0`).join(''), 'utf8');
}

/** Every bwrap option for a plan, in order (the command comes after them, on the argv). */
export function bwrapOptions(plan: BwrapPlan): string[] {
  const args = [
    // New user, pid, net, ipc, uts and cgroup namespaces: no host processes, no network but loopback.
    '--unshare-all',
    '--unshare-user',
    // The agent runs unprivileged (claude refuses --dangerously-skip-permissions as root); the
    // user namespace maps it to the invoking user, who owns the workspace files.
    '--uid', String(plan.uid),
    '--gid', String(plan.gid),
    '--cap-drop', 'ALL',
    // Kill the whole sandbox if parallel-cc dies: nothing keeps running unobserved.
    '--die-with-parent',
    // A new session: the sandbox cannot push keystrokes into the user's terminal (TIOCSTI).
    '--new-session',
    '--hostname', plan.hostname,
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/tmp',
  ];
  for (const m of [...plan.system, ...plan.mounts]) {
    if (m.kind === 'symlink') args.push('--symlink', m.src, m.dest);
    else if (m.kind === 'tmpfs') args.push('--tmpfs', m.dest);
    else args.push(`--${m.kind}`, m.src, m.dest);
  }
  // Everything not mounted writable above is read-only, including the sandbox's own root.
  args.push('--remount-ro', '/');
  args.push('--clearenv');
  for (const [k, v] of Object.entries(plan.env)) args.push('--setenv', k, v);
  args.push('--chdir', plan.cwd);
  return args;
}
