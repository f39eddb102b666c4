import { z } from 'zod';
import { list, num, sizeMib, str } from '../../config/env-parse.js';
import type { DoctorCheck, ProviderModule } from '../module.js';

const size = z.string().regex(/^\d+(\.\d+)?[kmgKMG]?$/, 'a size like 512m or 2g');

const config = z
  .object({
    allowedDomains: z.array(z.string().min(1)).default([]),
    /** cgroup limits on everything in the sandbox (the agent and whatever it starts). */
    memoryLimit: size.default('2g'),
    pidsLimit: z.number().int().positive().default(512),
    filesystem: z
      .object({ allowWrite: z.array(z.string()).default([]), denyRead: z.array(z.string()).default([]) })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

/** bubblewrap on this machine: the default provider. */
export const nativeModule: ProviderModule<'native', typeof config> = {
  name: 'native',
  summary: 'native (default)',
  config,
  env: [
    { name: 'PARALLEL_CC_NATIVE_ALLOWED_DOMAINS', key: 'allowedDomains', parse: list },
    { name: 'PARALLEL_CC_NATIVE_ALLOW_WRITE_PATHS', key: 'filesystem.allowWrite', parse: list },
    { name: 'PARALLEL_CC_NATIVE_DENY_READ_PATHS', key: 'filesystem.denyRead', parse: list },
    { name: 'PARALLEL_CC_NATIVE_MEMORY_LIMIT', key: 'memoryLimit', parse: str },
    { name: 'PARALLEL_CC_NATIVE_PIDS_LIMIT', key: 'pidsLimit', parse: num },
  ],
  configFile: {
    flags: '--native-config <file>',
    help: 'native only: an srt-style settings file ({"network":{"allowedDomains":[…]},"filesystem":{"denyRead":[…],"allowWrite":[…]}}): allowedDomains replaces the allowlist, denyRead hides host paths the sandbox would see, allowWrite must already be writable (workspace, home, /tmp); any other key is an error',
    load: async () => (await import('./srt-config.js')).parseSrtConfig,
  },
  diskInSandboxDir: true,
  async doctor({ probe, required }): Promise<DoctorCheck[]> {
    const checks: DoctorCheck[] = [];
    const bwrapV = await probe(['bwrap', '--version']);
    checks.push({ name: 'bubblewrap', ok: bwrapV.ok, required, detail: bwrapV.ok ? bwrapV.out : 'not found', fix: 'sudo apt-get install bubblewrap' });
    if (bwrapV.ok) {
      const ns = await probe(['bwrap', '--unshare-all', '--unshare-user', '--uid', '1000', '--ro-bind', '/', '/', '--', 'true']);
      checks.push({
        name: 'user namespaces',
        ok: ns.ok,
        required,
        detail: ns.ok ? 'bwrap can create a sandbox' : ns.out,
        fix: 'Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0), or use --provider docker.',
      });
    }
    const { SessionCgroup } = await import('./cgroup.js');
    const cg = await SessionCgroup.create(`doctor-${process.pid}`, { memoryBytes: 64 * 1024 * 1024, pids: 16 });
    if (cg instanceof SessionCgroup) await cg.remove();
    checks.push({
      name: 'native resource limits',
      ok: cg instanceof SessionCgroup,
      required: false,
      detail: cg instanceof SessionCgroup ? 'cgroup memory/pids limits can be enforced' : cg.unavailable,
      fix: 'Run as a user with a delegated cgroup (systemd-run --user --scope -p Delegate=yes …) to get memory/pids limits.',
    });
    return checks;
  },
  fromTemplate(t) {
    // The host's own programs are the sandbox's: no image; memory is a cgroup limit where delegated.
    return { config: t.memory !== undefined ? { memoryLimit: sizeMib(t.memory) } : {}, ignored: ['image', 'e2bTemplate', 'daytonaSnapshot', 'cloudflareInstanceType', 'cpus', 'disk'] };
  },
  async load() {
    const { NativeProvider } = await import('./index.js');
    return (env, section) => new NativeProvider(env, section);
  },
};
