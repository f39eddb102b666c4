/**
 * The bubblewrap command line for one command in a native sandbox, built as plain data so it can be
 * unit-tested as data. Every flag has a reason next to it.
 */

/** A host path made visible inside the sandbox. */
export interface Mount {
  kind: 'ro-bind' | 'bind' | 'symlink' | 'ro-bind-try';
  /** Host path (for binds) or link target (for symlinks). */
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

/** Builds the argv (starting with "bwrap") for a plan. */
export function bwrapArgv(plan: BwrapPlan): string[] {
  const args = [
    'bwrap',
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
    else args.push(`--${m.kind}`, m.src, m.dest);
  }
  // Everything not mounted writable above is read-only, including the sandbox's own root.
  args.push('--remount-ro', '/');
  args.push('--clearenv');
  for (const [k, v] of Object.entries(plan.env)) args.push('--setenv', k, v);
  args.push('--chdir', plan.cwd, '--', ...plan.argv);
  return args;
}
