import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config/load.js';
import type { Context } from '../../core/context.js';
import { createSandboxDir, removeSandboxDir } from '../../core/sandbox-dir.js';
import { AppError } from '../../errors.js';
import { EXEC_LABEL, markExecSandbox } from '../../core/exec-leftovers.js';
import type { ExecHandle, SandboxHandle } from '../../providers/provider.js';

/** Options of `parallel-cc sandbox exec`. */
export interface ExecFlags {
  provider?: string;
  repo?: string;
}

/**
 * `parallel-cc sandbox exec -- <command…>`: runs one command in a fresh sandbox of the provider (no
 * agent, no registry row, no branch) and exits with its exit code — for trying a sandbox out, for
 * scripts, and as the round-trip benchmark. With --repo the repository's files (minus secrets and
 * ignored files) are copied in; otherwise the workspace is empty. The sandbox is always removed;
 * after a SIGKILL of this CLI, `cleanup` removes it (see core/exec-leftovers.ts).
 */
export async function execCommand(argv: string[], flags: ExecFlags, ctx: Context): Promise<number> {
  if (argv.length === 0) throw new AppError('usage', 'nothing to run', { hint: 'parallel-cc sandbox exec [--provider native] -- <command> [args…]' });
  // Loaded on demand: this command is meant to start fast.
  const { createProvider, DEFAULT_PROVIDER, providerNames } = await import('../../providers/registry.js');
  const name = flags.provider ?? DEFAULT_PROVIDER;
  if (!providerNames().includes(name)) throw new AppError('usage', `unknown provider "${name}"`, { hint: `Use one of: ${providerNames().join(', ')}.` });
  const repo = flags.repo !== undefined ? resolve(ctx.cwd, flags.repo) : undefined;
  const { config } = loadConfig({ home: ctx.home, ...(repo ? { repoRoot: repo } : {}), env: ctx.env });
  const provider = await createProvider(name, ctx.env, config);
  const sandboxDir = await createSandboxDir(ctx.env);
  const sessionId = `x${randomBytes(4).toString('hex')}`;
  let sandbox: SandboxHandle | undefined;
  let handle: ExecHandle | undefined;
  const onAbort = (): void => void handle?.kill();
  try {
    // The folder says whose it is before any sandbox exists: `cleanup` removes it once this CLI is gone.
    await markExecSandbox(sandboxDir, name, sessionId);
    const spec = { sessionId, sandboxDir, bridges: {}, labels: { 'parallel-cc.session': 'exec', [EXEC_LABEL]: sessionId } };
    const upload = repo ? await (await import('../../core/sync/plan.js')).planUpload(repo, config.uploadIgnorePatterns) : undefined;
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    if (provider.runOnce) {
      // The command is the sandbox's own process: no idle sandbox, no separate command round trips.
      handle = await provider.runOnce(spec, { argv }, upload ? { upload } : {});
    } else {
      sandbox = await provider.create(spec);
      if (upload) await provider.upload(sandbox, upload);
      handle = provider.execute(sandbox, { argv });
    }
    if (ctx.signal.aborted) void handle.kill();
    for await (const chunk of handle) (chunk.stream === 'stdout' ? ctx.stdout : ctx.stderr).write(chunk.data as unknown as string);
    const exit = await handle.wait();
    return exit.exitCode ?? 128 + 9;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (sandbox) await provider.destroy(sandbox).catch(() => undefined);
    await removeSandboxDir(sandboxDir).catch(() => undefined);
  }
}
