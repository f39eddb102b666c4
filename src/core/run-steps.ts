import type { Agent, AgentUpdate } from '../agents/agent.js';
import { AppError } from '../errors.js';
import { humanBytes } from './format.js';
import { sandboxCost, type SandboxHandle, type SandboxPricing, type SandboxProvider, type UploadSource } from '../providers/provider.js';
import { providerModule } from '../providers/registry.js';
import type { StreamEvent } from './events.js';

type Emit = (e: StreamEvent) => void;

/** How long an agent's update (`claude update`) may take before the run goes on with the installed version. */
const UPDATE_TIMEOUT_MS = 180_000;
/** Uploads above this size report their progress. */
const PROGRESS_THRESHOLD = 4 * 1024 * 1024;

/**
 * Updates the agent that a cloud sandbox brings with it (`claude update`, spec 000). A failed
 * update is a warning, never fatal: the installed version runs.
 */
export async function updateAgent(provider: SandboxProvider, sandbox: SandboxHandle, agent: Agent, update: AgentUpdate, env: Record<string, string>, emit: Emit): Promise<void> {
  const argv = update.argv(sandbox.agentPath);
  const Label = agent.label.charAt(0).toUpperCase() + agent.label.slice(1);
  emit({ type: 'phase', phase: 'update', message: `running ${argv.join(' ')} (skip with --skip-agent-update)` });
  const handle = provider.execute(sandbox, { argv, env });
  const timer = setTimeout(() => void handle.kill(), UPDATE_TIMEOUT_MS);
  let output = '';
  try {
    for await (const chunk of handle) output += chunk.data.toString('utf8');
  } finally {
    clearTimeout(timer);
  }
  const exit = await handle.wait();
  const r = update.outcome(exit.signal ? null : exit.exitCode, output);
  if (r.ok) emit({ type: 'phase', phase: 'update', message: `${agent.label} update: ${r.detail}` });
  else emit({ type: 'warning', message: `${Label} update failed (${exit.signal ? `stopped after ${UPDATE_TIMEOUT_MS / 1000}s` : r.detail}); running the installed version` });
}

/** Time kept free at the end of a sandbox's life for collecting the agent's work. */
const COLLECT_MARGIN_MS = 3 * 60_000;

/**
 * The agent's timeout in a sandbox that ends by itself (a cloud sandbox's lifetime): cut short so
 * that its work can still be collected before the sandbox is gone, and said so.
 */
export function agentTimeout(requestedMinutes: number, sandbox: SandboxHandle, now: number): { minutes: number; note?: string } {
  if (sandbox.expiresAt === undefined) return { minutes: requestedMinutes };
  const left = (sandbox.expiresAt - now - COLLECT_MARGIN_MS) / 60_000;
  if (left >= requestedMinutes) return { minutes: requestedMinutes };
  const minutes = left >= 5 ? Math.floor(left) : Math.max(0.5, Math.floor(left * 10) / 10);
  // How to get a longer-lived sandbox is the provider's to say (its module's hint).
  const hint = providerModule(sandbox.provider)?.hints?.longerLifetime;
  return { minutes, note: `the agent gets ${minutes} of the requested ${requestedMinutes} minutes: the sandbox ends by itself ${Math.round((sandbox.expiresAt - now) / 60_000)} minutes from now and its work must be collected before that${hint ? ` (${hint})` : ''}` };
}

/**
 * Refuses an upload plan over the provider's limits (E2B: 500 MB, 100,000 files) before any sandbox
 * is created, with the sizes and how to exclude more.
 */
export function checkUploadLimits(provider: SandboxProvider, plan: UploadSource & { totalBytes: number }): void {
  const limits = provider.capabilities.uploadLimits;
  if (!limits) return;
  const over = [
    ...(plan.totalBytes > limits.maxBytes ? [`${humanBytes(plan.totalBytes)} (the limit is ${humanBytes(limits.maxBytes)})`] : []),
    ...(plan.files.length > limits.maxFiles ? [`${plan.files.length.toLocaleString('en-US')} files (the limit is ${limits.maxFiles.toLocaleString('en-US')})`] : []),
  ];
  if (over.length === 0) return;
  throw new AppError('usage', `the upload to ${provider.name} is too big: ${over.join(' and ')}`, {
    hint: 'Exclude what the agent does not need (build output, data, dependencies) with a .e2bignore file in the repo root (gitignore syntax), or use --provider native or docker.',
  });
}

/** Uploads the working state, reporting progress (about every 10%) when it is more than a few MB. */
export async function uploadWithProgress(provider: SandboxProvider, sandbox: SandboxHandle, plan: UploadSource & { totalBytes: number }, emit: Emit): Promise<void> {
  const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
  let next = 0.1;
  await provider.upload(sandbox, plan, {
    onProgress: (sent, total) => {
      if (total < PROGRESS_THRESHOLD || sent / total < next) return;
      next = Math.floor((sent / total) * 10) / 10 + 0.1;
      emit({ type: 'phase', phase: 'upload', message: `uploaded ${mb(sent)} of ${mb(total)} MB (${Math.round((sent / total) * 100)}%)` });
    },
  });
}

/**
 * Estimates what a sandbox that bills by time costs while it exists: a `cost` event every minute
 * (and at the end), each one also handed to `record` for the registry.
 */
export class SandboxMeter {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pricing: SandboxPricing,
    private readonly createdAt: number,
    private readonly now: () => number,
    private readonly emit: Emit,
    private readonly record: (usd: number) => void,
    everyMs = 60_000,
  ) {
    this.timer = setInterval(() => this.tick(), everyMs);
    this.timer.unref();
  }

  /** Emits and records the cost so far; returns it. */
  tick(): number {
    const seconds = (this.now() - this.createdAt) / 1000;
    const usd = sandboxCost(this.pricing, seconds);
    this.emit({ type: 'cost', sandboxUsd: usd, sandboxSeconds: seconds, usdPerHour: this.pricing.usdPerHour });
    this.record(usd);
    return usd;
  }

  /** Stops the ticker and returns the final estimate. */
  stop(): number {
    clearInterval(this.timer);
    return this.tick();
  }
}

/**
 * Tells the user when the sandbox hit its memory or pids limit ("out of memory (limit 2g)"), and
 * returns that reason for the failure message when the agent itself went down with it.
 */
export async function reportLimits(provider: SandboxProvider, sandbox: SandboxHandle, emit: Emit): Promise<{ text: string; pidsLimitHit: boolean } | undefined> {
  const ev = await provider.limitEvents?.(sandbox).catch(() => undefined);
  if (!ev) return undefined;
  if (ev.note) emit({ type: 'warning', message: ev.note });
  const reasons: string[] = [];
  if (ev.oomKills > 0) reasons.push(`killed: out of memory (limit ${ev.memoryLimit}; ${ev.oomKills} process${ev.oomKills === 1 ? '' : 'es'} killed)`);
  if (ev.pidsLimitHits > 0) reasons.push(`process limit reached (limit ${ev.pidsLimit}; ${ev.pidsLimitHits} fork${ev.pidsLimitHits === 1 ? '' : 's'} refused)`);
  for (const r of reasons) emit({ type: 'warning', message: `sandbox ${r}` });
  return reasons.length ? { text: reasons.join('; '), pidsLimitHit: ev.pidsLimitHits > 0 } : undefined;
}

/**
 * Collects, and again while the sandbox sits at its process limit (`atLimit`): what the agent left
 * behind may still be dying (a fork bomb's last processes), and collecting forks a few processes.
 */
export async function collectPastLimit(collect: () => Promise<Buffer>, atLimit: boolean, tries = 5, waitMs = 500): Promise<Buffer> {
  for (let i = 1; ; i++) {
    try {
      return await collect();
    } catch (e) {
      if (!atLimit || i >= tries) throw e;
    }
    await new Promise((r) => setTimeout(r, waitMs));
  }
}

/**
 * Awaits independent steps at once, but fails as if they had run one after another: with the error
 * of the first step (in order) that failed, so the message a user sees never depends on timing.
 */
export async function inOrder<T extends readonly unknown[]>(steps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(steps);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
