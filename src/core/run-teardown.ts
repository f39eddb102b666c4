import { rm } from 'node:fs/promises';
import type { SandboxHandle, SandboxProvider } from '../providers/provider.js';
import type { StreamEvent } from './events.js';
import type { SessionNet } from './net/session-net.js';
import { removeSandboxDir } from './sandbox-dir.js';
import { removeSessionWorktree } from './worktree.js';

/**
 * Destroys a sandbox. A provider that bills by time (its pricing capability) keeps billing a
 * sandbox it failed to destroy, so that failure is returned as a warning the user must see;
 * elsewhere it stays quiet (a local sandbox's leftovers are `cleanup`'s).
 */
export async function destroySandbox(provider: SandboxProvider, sandbox: SandboxHandle, opts: { keep?: boolean } = {}): Promise<string | undefined> {
  try {
    await provider.destroy(sandbox, opts);
    return undefined;
  } catch (e) {
    if (!provider.capabilities.pricing) return undefined;
    return `could not destroy ${provider.name} sandbox ${sandbox.id} (${e instanceof Error ? e.message : String(e)}): it may still be running and billed; remove it with \`parallel-cc cleanup\` or in the provider's console`;
  }
}

/** What a run leaves to tear down. */
export interface Teardown {
  provider: SandboxProvider;
  sandbox?: SandboxHandle | undefined;
  keepSandbox: boolean;
  net?: SessionNet | undefined;
  netDir?: string | undefined;
  sandboxDir?: string | undefined;
  /** The session's worktree, to remove when nothing new is on its branch. */
  worktree?: { repoRoot: string; path: string; branch: string; startCommit: string };
}

/**
 * Tears a run down whatever happened: the sandbox (unless kept), the host bridges, the sandbox's
 * folder, and a worktree that holds nothing new. Nothing here throws; a billed sandbox that
 * survives is a warning event.
 */
export async function tearDown(t: Teardown, emit: (e: Extract<StreamEvent, { type: 'warning' }>) => void, released?: Promise<void>): Promise<void> {
  // The worktree (which the sandbox never mounts) goes while the sandbox does — or after a sandbox
  // the run already released ({@link releaseSandbox}, `released`).
  await Promise.all([released ?? releaseSandbox(t, emit), t.worktree ? removeEmptyWorktree(t.worktree) : undefined]);
}

/** The sandbox part of {@link tearDown}: the sandbox (unless kept), the host bridges, the sandbox's folder. */
export async function releaseSandbox(t: Omit<Teardown, 'worktree'>, emit: (e: Extract<StreamEvent, { type: 'warning' }>) => void): Promise<void> {
  // Independent of each other, so overlapped (a docker container's removal alone takes ~300 ms):
  // the sandbox and the host bridges. The folders go after both: the sandbox mounts them.
  const sandbox = (async (): Promise<void> => {
    const warning = t.sandbox ? await destroySandbox(t.provider, t.sandbox, { keep: t.keepSandbox }) : undefined;
    if (warning) emit({ type: 'warning', message: warning });
  })();
  await Promise.all([sandbox, t.net?.close().catch(() => undefined)]);
  if (t.netDir) await rm(t.netDir, { recursive: true, force: true }).catch(() => undefined);
  // --no-cleanup keeps the sandbox's folder (its workspace) until `cleanup` removes it.
  if (!t.keepSandbox) await removeSandboxDir(t.sandboxDir).catch(() => undefined);
}

/** A branch with nothing new on it is noise: it goes with its worktree. Work is never dropped. */
async function removeEmptyWorktree(w: NonNullable<Teardown['worktree']>): Promise<void> {
  await removeSessionWorktree(w.repoRoot, w.path, w.branch, w.startCommit).catch(() => undefined);
}
