import type { AgentInstall } from '../agents/agent.js';
import type { SandboxHandle } from '../providers/provider.js';
import type { StreamEvent } from './events.js';
import type { Credential } from './net/api-broker.js';
import type { SessionNet } from './net/session-net.js';
import { openBridges } from './run-bridges.js';
import type { RunDeps, RunRequest } from './run-request.js';
import { SandboxMeter } from './run-steps.js';
import { createRunDir, createSandboxDir } from './sandbox-dir.js';
import { waitForSlot } from './slots.js';
import { openSessionFleet, type SessionFleet } from './fleet-session.js';

/**
 * What a run has made of its sandbox so far, each part recorded as soon as it exists: the
 * teardown's (and the crash guard's) view, whatever ended the run on the way.
 */
export interface RunSandbox {
  sandboxDir?: string;
  netDir?: string;
  net?: SessionNet;
  fleet?: SessionFleet;
  sandbox?: SandboxHandle;
  meter?: SandboxMeter;
  /** What the agent is handed: the user's credential, the broker's stand-in, or the provider's placeholder. */
  agentCredential?: Credential;
}

/** What {@link makeRunSandbox} needs of its run. */
export interface SandboxInputs {
  req: RunRequest;
  deps: RunDeps;
  id: string;
  root: string;
  sessionDir: string;
  dbPath: string;
  install: AgentInstall;
  credential: Credential | undefined;
  upstream: string | undefined;
  /** The sandbox reaches the host's broker and proxy through sockets (local providers). */
  bridged: boolean;
  emit: (e: StreamEvent) => void;
  signal: AbortSignal;
  checkAbort: () => void;
}

/**
 * Makes a run's sandbox once its provider is known to work (`available`): the sandbox folder, the
 * broker and proxy behind their sockets, a slot under the provider's limits, then the sandbox.
 * Needs neither the worktree nor the upload plan, so it runs while they are made.
 */
export async function makeRunSandbox(into: RunSandbox, available: Promise<void>, i: SandboxInputs): Promise<SandboxHandle> {
  const { req, deps, id, emit } = i;
  const { ctx, config, sessions, provider, agent } = deps;
  const allowDomains = [...config.providers.native.allowedDomains, ...req.allowDomains];
  await available;
  i.checkAbort();
  // Local sandboxes get the credential broker and egress proxy; the real key stays on the host.
  // Cloud sandboxes cannot reach a host socket, so they get the key as an env var of the agent only.
  // Local sandboxes mount their state and sockets from a random folder under a neutral root,
  // recorded before it is used so cleanup and recovery find it (core/sandbox-dir.ts).
  if (provider.capabilities.localFilesystem || i.bridged) sessions.update(id, { sandboxDir: (into.sandboxDir = await createSandboxDir(ctx.env)) });
  if (i.bridged && into.sandboxDir) {
    const netDir = (into.netDir = await createRunDir(into.sandboxDir));
    // The broker is the fleet's control point: shared limits, backoff, exact cost, budgets.
    const fleet = (into.fleet = openSessionFleet(deps.fleet, { config, dbPath: i.dbPath, sessionId: id, sessions, ...(req.budgetUsd !== undefined ? { budgetUsd: req.budgetUsd } : {}), emit }));
    const bridges = await openBridges({ netDir, sessionDir: i.sessionDir, agent, credential: i.credential, upstream: i.upstream, allowDomains, ...(req.privateDeps ? { privateDeps: req.privateDeps } : {}), gate: fleet.member, emit });
    into.net = bridges.net;
    into.agentCredential = bridges.agentCredential;
  }
  await waitForSlot(sessions, id, req.provider, config.limits[req.provider], { signal: i.signal, emit });
  i.checkAbort();
  emit({ type: 'phase', phase: 'sandbox', message: `creating ${req.provider} sandbox` });
  const { install, credential, upstream } = i;
  const made = await provider.create({
    sessionId: id,
    ...(into.sandboxDir ? { sandboxDir: into.sandboxDir } : {}),
    ...(req.workdir ? { workdir: req.workdir } : {}),
    bridges: into.net ? into.net.bridges() : {},
    ...(install.kind === 'binary' ? { agentBinary: install.path } : {}),
    ...(install.kind === 'package' ? { agentPackage: { dir: install.dir, entry: install.entry } } : {}),
    agentName: agent.mountName,
    labels: { 'parallel-cc.session': id, 'parallel-cc.repo': i.root },
    lifetimeMinutes: req.timeoutMinutes,
    ...(i.bridged || !credential || !upstream ? {} : { egress: { apiUrl: upstream, credential, allowDomains } }),
  });
  into.sandbox = made;
  // A provider that adds the real credential on egress (E2B network rules) hands the agent a placeholder.
  if (made.agentCredential) into.agentCredential = made.agentCredential;
  for (const w of made.warnings ?? []) emit({ type: 'warning', message: w });
  const createdAt = ctx.now();
  sessions.update(id, { sandboxId: made.id, sandboxCreatedAt: createdAt.toISOString() });
  const pricing = provider.capabilities.pricing;
  if (pricing) into.meter = new SandboxMeter(pricing, createdAt.getTime(), () => ctx.now().getTime(), emit, (usd) => sessions.update(id, { sandboxCostUsd: usd }));
  emit({ type: 'debug', message: `sandbox created: ${made.id} (workdir ${made.workdir})` });
  return made;
}
