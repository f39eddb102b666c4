/**
 * The sandbox-side layout native and docker share: where the workspace, the agent's home and
 * parallel-cc's own files are, and the environment every command starts from.
 */

/** parallel-cc's own files inside a local sandbox: init.cjs, bin/<agent>, run/*.sock, lib/. */
export const OPT = '/opt/parallel-cc';
/** The agent's repo (bind-mounted from `<sandbox folder>/workspace`). */
export const WORKDIR = '/workspace';
/** The agent's home (bind-mounted from `<sandbox folder>/home`). */
export const HOMEDIR = '/home/agent';

/**
 * The environment of a command in a local sandbox: a fixed, minimal block (nothing of the CLI's own
 * environment leaks in), then the request's variables, which win.
 */
export function sandboxEnv(reqEnv: Record<string, string> | undefined): Record<string, string> {
  return {
    PATH: `${OPT}/bin:/usr/local/bin:/usr/bin:/bin`,
    HOME: HOMEDIR,
    USER: 'agent',
    LOGNAME: 'agent',
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    ...reqEnv,
  };
}
