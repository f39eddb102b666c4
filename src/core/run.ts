import { randomBytes } from 'node:crypto';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentLaunch, locateAgent, writeAgentFiles } from './agent-select.js';
import { runAgent } from './agent-run.js';
import { AppError, toAppError } from '../errors.js';
import type { SandboxHandle } from '../providers/provider.js';
import type { SessionRepository, SessionStatus } from '../store/sessions.js';
import { homePaths } from './context.js';
import { recordCrash } from './crash-record.js';
import type { AgentEvent, RunSummary, StreamEvent, TokenUsage } from './events.js';
import { humanBytes, plural } from './format.js';
import { gitIdentity, repoRoot, resolveCommit } from './git.js';
import { resolveAgentCredential } from './credentials.js';
import { privateDepSecrets } from './private-deps.js';
import { sandboxDepsSetup } from './private-deps-sandbox.js';
import { collectRequest, collectSandboxResults, initSandboxRepo, SANDBOX_BRANCH } from './sandbox-repo.js';
import { createRunRow } from './run-row.js';
import { makeRunSandbox, type RunSandbox } from './run-sandbox.js';
import { worktreeWhileChecking } from './run-worktree.js';
import { Redactor } from './redact.js';
import { agentTimeout, checkUploadLimits, collectPastLimit, inOrder, reportLimits, updateAgent, uploadWithProgress } from './run-steps.js';
import { SessionLog } from './session-log.js';
import { describeExcluded } from './sync/exclusions.js';
import { watchKill } from './kill-request.js';
import { ignoredSecrets, planUpload } from './sync/plan.js';
import { importResults } from './sync/results.js';
import { createSessionWorktree } from './worktree.js';
import { continueWorktree as continueReused } from './run-options/worktree.js';
import { uploadHistory } from './sync/history.js';
import type { RunDeps, RunRequest } from './run-request.js';
import { agentFailure, recordOutcome, settle, type SettleInput } from './outcome.js';
import { releaseSandbox, tearDown } from './run-teardown.js';
import { installComponents } from './components/install.js';
import { hookRunner } from './hooks.js';
import { runSummary, type RunFacts } from './run-summary.js';
import { summaryPayload, WebhookNotifier } from './webhooks.js';
import { startMonitor } from './alerts.js';
import { continueWorktree as continueResumed, keepTranscript, transcriptStep } from './resume.js';
import { meteredCost } from './fleet-session.js';

export type { RunDeps, RunRequest } from './run-request.js';

/** A fresh short session id, unique in the registry. */
export function newSessionId(taken: (id: string) => boolean): string {
  for (;;) {
    const id = randomBytes(4).toString('hex');
    if (!taken(id)) return id;
  }
}

/**
 * Runs one agent session end to end: registry row → worktree/branch → sandbox → upload → agent
 * (streamed) → results as commits on the branch → cleanup. Every state change is recorded before
 * it happens, so a crash leaves a truthful row behind.
 */
export async function runSession(req: RunRequest, deps: RunDeps): Promise<RunSummary> {
  const { ctx, config, sessions, provider, agent } = deps;
  const started = ctx.now().getTime();
  const root = await repoRoot(req.repo);
  const install = locateAgent(agent, provider, config, ctx);
  // Independent lookups at once (each is a git call or a file read). An agent without a model API
  // (the `command` agent) needs none of the user's keys: none is read.
  const [baseCommit, credential, hostIdentity] = await inOrder([
    resolveCommit(root, req.base ?? 'HEAD'),
    agent.credential ? resolveAgentCredential(agent.credential, ctx.env, req.authMethod, ctx.now()) : undefined,
    gitIdentity(root),
  ] as const);
  const identity = req.gitIdentity ?? hostIdentity;

  const id = newSessionId((x) => sessions.exists(x));
  const paths = homePaths(ctx.home);
  const sessionDir = join(paths.sessions, id);
  await mkdir(sessionDir, { recursive: true, mode: 0o700 });
  const logPath = join(sessionDir, 'events.ndjson');
  const promptPath = join(sessionDir, 'prompt.txt');
  await writeFile(promptPath, req.prompt, { mode: 0o600 });
  const branch = req.worktree?.branch ?? req.continue?.branch ?? req.branch ?? `parallel-cc/${id}`;
  const worktreePath = req.worktree?.path ?? req.continue?.worktreePath ?? join(paths.worktrees, `${root.split('/').pop() ?? 'repo'}-${id}`);
  // Logs, the registry and the live stream never carry a credential, whatever the agent printed.
  const redactor = Redactor.fromEnv(ctx.env, [...(credential ? [credential.value] : []), ...privateDepSecrets(req.privateDeps)]);
  const log = new SessionLog([logPath, ...(req.localLog ? [req.localLog] : [])]);
  const emit = (e: AgentEvent | Exclude<StreamEvent, AgentEvent>): void => {
    const stamped: StreamEvent = redactor.value({ ts: ctx.now().toISOString(), sessionId: id, ...e });
    log.write(stamped);
    deps.emit(stamped);
  };
  const setStatus = (status: SessionStatus, patch: Parameters<SessionRepository['update']>[1] = {}): void => {
    sessions.update(id, { status, ...patch });
  };

  createRunRow(sessions, req, agent, { id, repo: root, baseCommit, branch, worktreePath, promptPath, sessionDir, logPath }, (t) => redactor.text(t));

  const about = { sessionId: id, repo: root, branch, provider: req.provider, agent: agent.name, ...(req.groupId ? { groupId: req.groupId, taskId: req.taskId } : {}) };
  const webhooks = req.webhooks?.length ? new WebhookNotifier(req.webhooks, { logPath: join(sessionDir, 'webhooks.ndjson'), redact: (v) => redactor.value(v), now: ctx.now }) : undefined;
  webhooks?.notify('created', { ...about, prompt: req.prompt });

  // Ctrl-C / fail-fast (the outer signal) or `sandbox kill` of this session alone (it needs the row).
  const kill = watchKill(sessionDir, req.signal ?? ctx.signal);
  const signal = kill.signal;
  // The sandbox and what goes with it, filled in as each part exists (core/run-sandbox.ts).
  const made: RunSandbox = credential ? { agentCredential: credential } : {};
  let worktreeMade = false;
  let startCommit = baseCommit;
  let ended: RunSummary['status'] = 'failed';
  let failure: AppError | undefined;
  let origin: SettleInput['origin'];
  let cost: number | null = null;
  let usage: TokenUsage | null = null;
  let commits = 0;
  let snapshotMade = false;
  let files: string[] = [];
  let sandboxCost: number | undefined;
  let keeping: Promise<unknown> = Promise.resolve();
  let released: Promise<void> | undefined;
  let making: Promise<void> = Promise.resolve();
  const upstream = agent.credential?.upstream(config);
  const bridged = provider.capabilities.hostBridges ?? provider.capabilities.egressControlled;
  const hooks = hookRunner({ provider, sandbox: () => made.sandbox, timeoutMinutes: req.hooks?.timeoutMinutes ?? 10, signal, now: () => ctx.now().getTime(), emit, record: (r) => sessions.update(id, { hooks: JSON.stringify(r) }), ...(req.hooks ? { hooks: req.hooks } : {}), ...(req.template ? { env: req.template.env } : {}) });
  // If the process dies of a bug (src/bin.ts's crash guard), the row says so and the sandbox goes.
  const unguard = ctx.guard?.add(id, {
    fail: (reason) => recordCrash(sessions, paths.db, id, redactor.text(reason), ctx.now),
    // The process is going down: no one would see a warning.
    stop: () => tearDown({ provider, ...made, keepSandbox: false, sandboxDir: undefined }, () => undefined),
  });
  const checkAbort = (): void => {
    if (signal.aborted) throw new AppError('interrupted', 'interrupted before the agent started');
  };

  try {
    setStatus('initializing');
    // After registering: a provider that is not usable (no daemon, a rejected API key, an outage)
    // leaves a failed session with the reason, like any other failure.
    // What the user's own checkout keeps home that the worktree never holds (only for the phase
    // message): read while the worktree is made.
    const checkoutExcluded = req.base === undefined ? ignoredSecrets(root, config.uploadIgnorePatterns).catch(() => []) : Promise.resolve([]);
    emit({ type: 'phase', phase: 'worktree', message: `creating worktree ${worktreePath} on ${branch}` });
    // The sandbox is made while the worktree is: it needs neither the worktree nor the upload plan
    // (a docker container's ~200–400 ms start, a cloud sandbox's creation). A provider with upload
    // limits keeps the order: an upload over them is refused before any sandbox exists.
    const available = provider.checkAvailable();
    const makeSandbox = (): Promise<SandboxHandle> => makeRunSandbox(made, available, { req, deps, id, root, sessionDir, dbPath: paths.db, install, credential, upstream, bridged, emit, signal, checkAbort });
    const early = provider.capabilities.uploadLimits ? undefined : makeSandbox();
    // Whatever ends the run, the teardown waits for a sandbox still being made (it removes it).
    making = early?.then(() => undefined, () => undefined) ?? making;
    const prepared = await worktreeWhileChecking(available, req.worktree !== undefined || req.continue !== undefined, async () =>
      req.worktree
        ? continueReused(req.worktree, hostIdentity, { sessions, id, repoPath: root })
        : req.continue
          ? continueResumed(root, req.continue, { sessions, id, repoPath: root })
          : createSessionWorktree({ repoRoot: root, baseCommit, branch, path: worktreePath, includeWorkingState: req.base === undefined, identity: hostIdentity, excludeDirs: [ctx.home, await realpath(ctx.home).catch(() => ctx.home), ...(req.excludeDirs ?? [])] }),
    );
    if (prepared.wt) {
      worktreeMade = true;
      startCommit = prepared.wt.startCommit;
      snapshotMade = prepared.wt.snapshotCommit !== undefined;
    }
    if (prepared.unavailable !== undefined) {
      origin = 'provider_check';
      throw toAppError(prepared.unavailable);
    }
    if (!prepared.wt) throw toAppError(prepared.error);
    checkAbort();

    const plan = await planUpload(worktreePath, config.uploadIgnorePatterns);
    checkUploadLimits(provider, plan);
    emit({ type: 'debug', message: `registered session ${id} (${homePaths(ctx.home).db}); worktree at ${startCommit.slice(0, 12)}; excluded: ${plan.excluded.map((x) => `${x.path} (${x.reason})`).slice(0, 20).join(', ') || 'nothing'}` });
    const box = await (early ?? makeSandbox()).catch((e: unknown) => {
      // An outage while creating (5xx, 429, a creation timeout) is the provider's, not a setup mistake.
      if (e instanceof AppError && e.details?.transient === true) origin = 'provider_outage';
      throw e;
    });
    const { net, fleet, agentCredential } = made;
    checkAbort();

    emit({ type: 'phase', phase: 'upload', message: `uploading ${plural(plan.files.length, 'file')} (${humanBytes(plan.totalBytes)}), ${describeExcluded([...(await checkoutExcluded), ...plan.excluded])}` });
    await uploadWithProgress(provider, box, plan, emit);
    const privDeps = sandboxDepsSetup(req.privateDeps, box);
    await writeAgentFiles(provider, box, privDeps.files);
    // Before the sandbox repo starts: what packages and setup make (node_modules, builds) is the environment, not the agent's work.
    await hooks.beforeAgent();
    checkAbort();
    const history = req.uploadRepo ? { bundle: await uploadHistory(provider, box, { worktreePath, commit: startCommit, scratchDir: sessionDir }), base: startCommit } : undefined;
    const sandboxStart = await initSandboxRepo(provider, box, { identity, baseLabel: startCommit.slice(0, 12), onlyUploaded: hooks.results.length === 0, ...(history ? { history } : {}) });
    sessions.update(id, { sandboxStart });
    emit({ type: 'debug', message: `sandbox repo initialised at ${sandboxStart.slice(0, 12)} on ${SANDBOX_BRANCH}` });
    checkAbort();

    const apiUrl = box.endpoints.api ?? (net ? undefined : upstream);
    const model = agent.model?.(config);
    const comp = req.components?.length ? await installComponents(provider, box, agent, req.components, req.prompt, emit) : undefined;
    const launch = agentLaunch(agent, install, box, { ...(model ? { model } : {}), prompt: comp?.prompt ?? req.prompt, args: [...(comp?.args ?? []), ...(req.continue?.agentArgs ?? [])], ...(agentCredential ? { credential: agentCredential } : {}), ...(apiUrl ? { apiUrl } : {}), ...(req.template ? { templateEnv: req.template.env } : {}), depsEnv: privDeps.env });
    await writeAgentFiles(provider, box, [...(launch.files ?? []), ...(req.continue?.agentFiles(box) ?? [])]);
    if (provider.capabilities.agentInstalled && !req.skipAgentUpdate && agent.update) {
      const drop = agent.update.dropEnv ?? [];
      await updateAgent(provider, box, agent, agent.update, Object.fromEntries(Object.entries(launch.env).filter(([k]) => !drop.includes(k))), emit);
      checkAbort();
    }
    const timeout = agentTimeout(req.timeoutMinutes, box, ctx.now().getTime());
    if (timeout.note) emit({ type: 'phase', phase: 'running', message: timeout.note });
    setStatus('running', { startedAt: ctx.now().toISOString() });
    webhooks?.notify('started', { ...about, prompt: req.prompt });
    emit({ type: 'phase', phase: 'running', message: `running ${agent.label} (timeout ${timeout.minutes} min)` });
    const monitor = startMonitor(provider, box, config.alertThresholds, { startedAt: ctx.now().getTime(), now: () => ctx.now().getTime(), emit, onAlert: (a, all) => (sessions.update(id, { alerts: JSON.stringify(all) }), webhooks?.notify('alert', { ...about, ...a })) });
    // Where commands chain, the work is collected and the transcript read in the agent's own sandbox
    // command as soon as it exits (round trips less); the ordinary reads stay the fallback.
    const transcriptRead = transcriptStep(agent, box);
    const chained = provider.capabilities.chainedExec ? { then: [collectRequest(box, { startCommit: sandboxStart, identity }), ...(transcriptRead ? [transcriptRead] : [])] } : {};
    const ran = await runAgent(provider, box, agent, launch, {
      ...chained,
      timeoutMinutes: timeout.minutes,
      signal,
      emit,
      onActivity: (activity) => sessions.update(id, { lastActivityAt: ctx.now().toISOString(), lastActivity: activity }),
      // Behind the broker its budgets apply; elsewhere (cloud sandboxes) the agent's own running estimate.
      ...(fleet ? { budgetStop: fleet.onStop } : req.budgetUsd !== undefined ? { budgetUsd: req.budgetUsd } : {}),
      ...(model ? { model } : {}),
      ...(net ? { apiUnreachable: () => net?.apiUnreachable() } : {}),
    }).finally(() => monitor?.stop());
    // A run stopped early has no final result line: its cost is the running estimate.
    cost = ran.result?.costUsd ?? ran.estimate?.costUsd ?? null;
    usage = ran.result?.usage ?? ran.estimate?.usage ?? null;
    // What the broker read from upstream's answers is the truth (core/fleet-session.ts).
    if (fleet) [cost, usage] = meteredCost(fleet, cost, usage, emit);
    sessions.update(id, { costUsd: cost, inputTokens: usage?.inputTokens ?? null, outputTokens: usage?.outputTokens ?? null, exitCode: ran.exitCode });
    ended = ran.outcome;
    // `sandbox resume` restores the agent's conversation from what is kept here (core/resume.ts).
    // It never throws, reads only, and runs while the work is collected (a round trip less to wait on).
    keeping = keepTranscript(provider, box, agent, sessionDir, logPath, ran.then?.[1]).then((kept) => kept && emit(kept)).catch(() => undefined);
    const limitHits = await reportLimits(provider, box, emit);
    failure = agentFailure(ended, { ...(ran.error ? { error: ran.error } : {}), ...(ran.hint ? { hint: ran.hint } : {}), ...(limitHits ? { limitHits: limitHits.text } : {}), costUsd: cost, ...(req.budgetUsd !== undefined ? { budgetUsd: req.budgetUsd } : {}), ...(fleet?.member.stopped() ? { budgetReason: fleet.member.stopped() } : {}), timeoutMinutes: timeout.minutes });

    if (ended === 'killed' && kill.request()?.collect === false) throw new AppError('interrupted', 'killed without collecting its work');
    const inBand = ran.then?.[0]?.exitCode === 0 ? ran.then[0].stdout : undefined;
    const collect = async (): Promise<Buffer> => inBand ?? collectPastLimit(() => collectSandboxResults(provider, box, { startCommit: sandboxStart, identity }), limitHits?.pidsLimitHit === true);
    const after = await hooks.afterAgent(ended === 'completed' && !failure, ended === 'killed', collect);
    if (after.checkFailure) [ended, origin, failure] = ['failed', 'check_failed', after.checkFailure];
    emit({ type: 'phase', phase: 'collecting', message: 'collecting results' });
    const series = after.mbox ?? (await collect());
    // Everything the sandbox will give is collected: unless it may be kept, it goes while the work is imported.
    if (!req.keepSandbox && req.keepSandboxOnError !== true) released = keeping.then(() => releaseSandbox({ provider, ...made, keepSandbox: false }, emit));
    emit({ type: 'debug', message: `collected a series of ${series.length} bytes ${inBand ? "in the agent's sandbox command" : 'in a sandbox command of its own'}` });
    emit({ type: 'phase', phase: 'importing', message: `applying results to ${branch}` });
    const imported = await importResults({ worktreePath, sessionDir, mbox: series, identity });
    commits = imported.commits;
    files = imported.files;
  } catch (e) {
    let err = toAppError(e);
    // A command failed because the sandbox itself is gone (e.g. its container stopped): say that.
    const down = made.sandbox && !released && err.kind === 'agent' ? await provider.diagnose?.(made.sandbox).catch(() => undefined) : undefined;
    if (down) {
      err = new AppError('environment', down.message, { cause: err, ...(down.hint ? { hint: down.hint } : {}) });
      origin = 'sandbox_lost';
    }
    failure = err;
    ended = err.kind === 'interrupted' ? 'killed' : 'failed';
  } finally {
    // The transcript is read before its sandbox goes, whatever ended the run.
    await Promise.all([keeping, making]);
    kill.stop();
    emit({ type: 'phase', phase: 'cleanup', message: 'cleaning up' });
    sandboxCost = made.meter?.stop();
    // A continued worktree (--worktree) is the user's, a resumed one its parent's: never removed here.
    const emptyWorktree = worktreeMade && !req.worktree && !req.continue && commits === 0 && failure?.kind !== 'results';
    await tearDown({ provider, ...made, keepSandbox: req.keepSandbox || (req.keepSandboxOnError === true && (failure !== undefined || ended !== 'completed')), ...(emptyWorktree ? { worktree: { repoRoot: root, path: worktreePath, branch, startCommit } } : {}) }, emit, released);
    // After the broker closed: its last answers are counted, then the session leaves the fleet.
    made.fleet?.leave();
  }

  const request = kill.request();
  const outcome = settle({ ended, ...(failure ? { failure } : {}), ...(origin ? { origin } : {}), ...(request?.by ? { killedBy: { by: request.by, collect: request.collect !== false } } : {}), redact: (t) => redactor.text(t) });
  const killedBy = outcome.reason === 'killed_by_user' ? request?.by : undefined;
  const worktreeKept = worktreeMade && (commits > 0 || req.worktree !== undefined || req.continue !== undefined || outcome.reason === 'results_refused');
  // "commits" = what `git log base..branch` lists: the agent's plus the working-state snapshot.
  const branchCommits = worktreeKept ? commits + (snapshotMade ? 1 : 0) : 0;
  const facts: RunFacts = { sessionId: id, repo: root, branch, worktree: worktreeKept ? worktreePath : null, baseCommit, commits: branchCommits, filesChanged: files, costUsd: cost, usage, durationMs: ctx.now().getTime() - started, logPath, egressDenied: made.net?.denied() ?? 0, hooks: hooks.results };
  const summary = runSummary(outcome, { ...facts, ...(sandboxCost !== undefined ? { sandboxCostUsd: sandboxCost } : {}), ...(killedBy ? { killedBy } : {}) });
  recordOutcome(sessions, id, outcome, ctx.now(), { commits: branchCommits, filesChanged: files.length, worktreePath: summary.worktree, ...(summary.worktree ? {} : { branch: null }) });
  unguard?.();
  emit({ type: 'summary', summary });
  // A receiver never holds the run up by more than a second (what is left is logged as abandoned).
  webhooks?.notify(summary.status, { ...about, ...summaryPayload(summary), prompt: req.prompt });
  await webhooks?.drain();
  return summary;
}
