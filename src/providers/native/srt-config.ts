import { posix } from 'node:path';
import { z } from 'zod';
import { HOMEDIR, OPT, WORKDIR } from '../local/layout.js';

/** Why an srt key we know has no counterpart here (named in the error). */
const UNSUPPORTED: Record<string, string> = {
  'network.deniedDomains': 'everything not in allowedDomains is already denied',
  'network.allowUnixSockets': 'the sandbox reaches no host socket but our broker and proxy',
  'network.allowLocalBinding': 'the sandbox has its own loopback',
  'network.httpProxyPort': 'the egress proxy is ours',
  'network.socksProxyPort': 'the egress proxy is ours',
  'filesystem.denyWrite': 'only the workspace, the agent\'s home and /tmp are writable anyway',
};

const schema = z
  .object({
    network: z.object({ allowedDomains: z.array(z.string().min(1)).describe('hosts the agent may reach (our allowlist syntax)').optional() }).strict().optional(),
    filesystem: z
      .object({
        denyRead: z.array(z.string().min(1)).describe('host paths the sandbox must not read').optional(),
        allowWrite: z.array(z.string().min(1)).describe('paths the agent may write').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The sandbox's own folders: the agent owns (or we own) them, so a host path rule cannot apply there. */
const SANDBOX_OWN = [WORKDIR, HOMEDIR, OPT, '/tmp'];
const within = (p: string, dirs: readonly string[]): boolean => dirs.some((d) => p === d || p.startsWith(`${d}/`));

/**
 * Maps an srt-style settings file (`--native-config`, spec 001) onto the native provider's config
 * section: `network.allowedDomains` → `allowedDomains` (replacing the configured list),
 * `filesystem.denyRead` → masks over what the sandbox sees of the host (absolute or `~/` paths;
 * not the sandbox's own folders), `filesystem.allowWrite` → checked to be writable already (the
 * workspace, relative paths in it, the agent's home, /tmp). Returns the problems instead when any
 * key cannot be honoured: each names its key.
 */
export function parseSrtConfig(text: string): { section: Record<string, unknown> } | { problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { problems: [`not JSON: ${(e as Error).message}`] };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.flatMap((i) => {
        const at = i.path.join('.');
        if (i.code !== 'unrecognized_keys') return [`${at || '(top level)'}: ${i.message}`];
        return i.keys.map((k) => {
          const key = at ? `${at}.${k}` : k;
          return `${key}: cannot be honoured by the native provider${UNSUPPORTED[key] ? ` (${UNSUPPORTED[key]})` : ''}`;
        });
      }),
    };
  }
  const { network, filesystem } = parsed.data;
  const problems: string[] = [];
  (filesystem?.denyRead ?? []).forEach((p, i) => {
    const abs = p === '~' || p.startsWith('~/') || p.startsWith('/');
    if (!abs) problems.push(`filesystem.denyRead[${i}] "${p}": give an absolute or ~/ path (host paths)`);
    else if (p.startsWith('/') && within(posix.normalize(p), SANDBOX_OWN)) problems.push(`filesystem.denyRead[${i}] "${p}": cannot be honoured, it is inside the sandbox's own folders (${SANDBOX_OWN.join(', ')}); keep a file out of the upload with .e2bignore instead`);
  });
  (filesystem?.allowWrite ?? []).forEach((p, i) => {
    const abs = p.startsWith('/') ? posix.normalize(p) : p.startsWith('~') ? undefined : posix.join(WORKDIR, p);
    if (abs === undefined || abs.startsWith('..') || !within(abs, [WORKDIR, HOMEDIR, '/tmp'])) problems.push(`filesystem.allowWrite[${i}] "${p}": cannot be honoured, only the workspace, the agent's home (${HOMEDIR}) and /tmp are writable; the host's folders never are`);
  });
  if (problems.length) return { problems };
  return {
    section: {
      ...(network?.allowedDomains ? { allowedDomains: network.allowedDomains } : {}),
      ...(filesystem ? { filesystem: { ...(filesystem.denyRead ? { denyRead: filesystem.denyRead } : {}), ...(filesystem.allowWrite ? { allowWrite: filesystem.allowWrite } : {}) } } : {}),
    },
  };
}
