import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { agentFor } from '../../agents/registry.js';
import type { Config } from '../../config/schema.js';
import type { Context } from '../../core/context.js';
import { homePaths } from '../../core/context.js';
import { parseAuthMethod } from '../../core/credentials.js';
import { repoRoot } from '../../core/git.js';
import { runMulti, type MultiRequest } from '../../core/multi/run-multi.js';
import type { WorkflowTag } from '../../core/run-request.js';
import { checkRunAllowlist } from '../../core/net/session-net.js';
import { assertAcyclic, buildTasks, parseTaskFile, type RawTask } from '../../core/multi/tasks.js';
import type { MultiEvent, MultiSummary } from '../../core/multi/types.js';
import { AppError, toAppError } from '../../errors.js';
import { createProvider } from '../../providers/registry.js';
import { openDb } from '../../store/db.js';
import { processFleet } from '../../core/fleet-session.js';
import { SessionRepository } from '../../store/sessions.js';
import { MultiRenderer } from '../render-multi.js';
import { checkOutputDir } from '../output-path.js';
import { rejectSingleOnlyFlags, sessionOptions } from './run-flags.js';
import { checkSessionOptions } from '../../core/run-options/checks.js';
import { parseTimeout } from './run-input.js';
import { runComponents, runConfig, runHooks, runWebhooks, templateWarnings } from './run.js';
import { MAX_CONCURRENT_LIMIT, type MultiFlags } from './multi-flags.js';

export { MAX_CONCURRENT_LIMIT, rejectMultiOnlyFlags, type MultiFlags } from './multi-flags.js';

/** Parses --max-concurrent: a positive integer (default 3). */
export function parseMaxConcurrent(raw: string | undefined): number {
  if (raw === undefined) return 3;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CONCURRENT_LIMIT)
    throw new AppError('usage', `--max-concurrent must be a whole number from 1 to ${MAX_CONCURRENT_LIMIT}, got "${raw}"`, { hint: 'Example: --max-concurrent 3' });
  return n;
}

/** Parses --budget-per-task: a positive amount of USD. */
export function parseBudget(raw: string | undefined, flag = '--budget-per-task'): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new AppError('usage', `${flag} must be a positive amount of USD, got "${raw}"`, { hint: `Example: ${flag} 0.50` });
  return n;
}

/** Collects the tasks from --task (in order) then --task-file. */
async function readTasks(flags: MultiFlags, cwd: string): Promise<RawTask[]> {
  const raw: RawTask[] = (flags.task ?? []).map((prompt, i) => ({ prompt, source: `--task #${i + 1}` }));
  if (flags.taskFile !== undefined) {
    const file = resolve(cwd, flags.taskFile);
    const text = await readFile(file, 'utf8').catch((e: unknown) => {
      throw new AppError('usage', `cannot read --task-file ${file}: ${(e as Error).message}`);
    });
    raw.push(...parseTaskFile(text, flags.taskFile));
  }
  return raw;
}

/**
 * Validates every --multi flag (exit 2 before anything starts) and builds the request. Checks that
 * need no sandbox come first, so a typo never costs a sandbox.
 */
export async function multiRequest(flags: MultiFlags, ctx: Context, workflow?: WorkflowTag): Promise<{ req: MultiRequest; config: Config }> {
  if (flags.prompt !== undefined || flags.promptFile !== undefined) throw new AppError('usage', '--prompt/--prompt-file cannot be combined with --multi', { hint: 'Give each task with --task "<prompt>" or --task-file <file>.' });
  if (flags.dryRun) throw new AppError('usage', '--dry-run is not supported with --multi', { hint: 'Dry-run one task with `sandbox run --dry-run --prompt ...`.' });
  if (flags.gitLive) throw new AppError('usage', '--git-live is not supported with --multi', { hint: 'Land a batch with `parallel-cc merge --group <id>`, or open a pull request per task with `parallel-cc pr <session>`.' });
  if (flags.localLog !== undefined) throw new AppError('usage', '--local-log is not supported with --multi', { hint: 'Each task writes <output-dir>/<task-id>/execution.log.' });
  if (flags.npmToken !== undefined || flags.npmRegistry !== undefined || flags.githubToken !== undefined || flags.sshKey !== undefined)
    throw new AppError('usage', '--npm-token, --npm-registry, --github-token and --ssh-key are not supported with --multi yet', { hint: 'Run the tasks that need private dependencies with `sandbox run`.' });
  rejectSingleOnlyFlags(flags);
  const maxConcurrent = parseMaxConcurrent(flags.maxConcurrent);
  const budget = parseBudget(flags.budgetPerTask);
  const batchBudget = parseBudget(flags.budget, '--budget');
  const authMethod = parseAuthMethod(flags.authMethod);
  const tasks = buildTasks(await readTasks(flags, ctx.cwd));
  assertAcyclic(tasks);
  const root = await repoRoot(resolve(ctx.cwd, flags.repo ?? '.'));
  const { config, provider, template } = await runConfig(flags, ctx, root);
  const allowDomains = [...(template?.allowDomains ?? []), ...(flags.allowDomain ?? [])];
  checkRunAllowlist(config.providers.native.allowedDomains, allowDomains);
  for (const w of templateWarnings(template, provider)) ctx.stderr.write(`warning: ${w}\n`);
  const components = await runComponents(flags, { agent: agentFor(config.agentCli), repoRoot: root, ctx });
  const hooks = runHooks(flags, config, template);
  const webhooks = runWebhooks(flags, config, ctx.env);
  const req: MultiRequest = {
    repo: root,
    tasks,
    maxConcurrent,
    failFast: flags.failFast === true,
    outputDir: await checkOutputDir('--output-dir', resolve(ctx.cwd, flags.outputDir ?? 'parallel-results')),
    provider,
    timeoutMinutes: parseTimeout(flags.timeout, template?.timeoutMinutes ?? config.timeoutMinutes),
    ...(flags.base !== undefined ? { base: flags.base } : {}),
    allowDomains,
    keepSandbox: flags.cleanup === false || !config.autoCleanup,
    ...(flags.keepOnError ? { keepSandboxOnError: true } : {}),
    ...(authMethod ? { authMethod } : {}),
    ...(flags.skipAgentUpdate || flags.skipClaudeUpdate ? { skipAgentUpdate: true } : {}),
    ...(budget !== undefined ? { budgetPerTaskUsd: budget } : {}),
    ...(batchBudget !== undefined ? { budgetUsd: batchBudget } : {}),
    ...(components.length ? { components } : {}),
    ...(hooks ? { hooks } : {}),
    ...(webhooks.length ? { webhooks } : {}),
    ...(workflow ? { workflow } : {}),
    ...(template ? { template: { name: template.name, env: template.env } } : {}),
  };
  return { req: { ...req, options: await sessionOptions(flags, root) }, config };
}

/** `parallel-cc sandbox run --multi`: renders progress and returns the process exit code (`workflow`: a saved workflow's run, on every row). */
export async function multiAction(flags: MultiFlags, ctx: Context, workflow?: WorkflowTag): Promise<number> {
  const options = { json: flags.json === true, stream: flags.stream !== false, stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, signal: ctx.signal };
  let renderer = new MultiRenderer({ ...options, taskIds: [] });
  try {
    const { req, config } = await multiRequest(flags, ctx, workflow);
    renderer = new MultiRenderer({ ...options, taskIds: req.tasks.map((t) => t.id) });
    const live = renderer;
    const summary = await runBatch(req, ctx, config, (e) => live.event(e)).finally(() => live.close());
    renderer.summary(summary);
    return summary.exitCode;
  } catch (e) {
    const err = toAppError(e);
    renderer.error(err);
    return err.exitCode;
  }
}

/**
 * Opens the registry once for the whole batch and runs it. With {@link multiRequest} this is the
 * programmatic way to run N tasks (e.g. for benchmarks): build flags, get the request, run it.
 */
export async function runBatch(req: MultiRequest, ctx: Context, config: Config, emit: (e: MultiEvent) => void): Promise<MultiSummary> {
  const provider = await createProvider(req.provider, ctx.env, config);
  checkSessionOptions(req.options ?? {}, provider);
  // One registry connection for the whole process, shared by every task.
  const db = openDb(homePaths(ctx.home).db);
  try {
    // The batch's fleet shares its limits and holds with the machine's other parallel-cc processes (the registry).
    const fleet = processFleet(config, db, req.budgetUsd);
    try {
      return await runMulti(req, { ctx, config, sessions: new SessionRepository(db, ctx.now), provider, agent: agentFor(config.agentCli), emit, fleet });
    } finally {
      fleet.close();
    }
  } finally {
    db.close();
  }
}
