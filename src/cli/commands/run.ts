import { resolve } from 'node:path';
import type { Agent } from '../../agents/agent.js';
import { agentFor } from '../../agents/registry.js';
import { catalogSettings, componentRefs, resolveComponents } from '../../core/components/resolve.js';
import type { Component } from '../../core/components/types.js';
import { loadConfig } from '../../config/load.js';
import type { Config, ProviderName } from '../../config/schema.js';
import type { SandboxProvider } from '../../providers/provider.js';
import type { RunHooks } from '../../core/hooks.js';
import { planTemplate, type TemplatePlan } from '../../core/templates/apply.js';
import { loadTemplate, readTemplateFile } from '../../core/templates/resolve.js';
import type { WebhookConfig } from '../../core/webhooks.js';
import type { Context } from '../../core/context.js';
import { homePaths } from '../../core/context.js';
import type { RunSummary, StreamEvent } from '../../core/events.js';
import { gitRaw, repoRoot, resolveCommit, splitZ } from '../../core/git.js';
import { parseAuthMethod } from '../../core/credentials.js';
import { checkRunAllowlist } from '../../core/net/session-net.js';
import { parsePrivateDeps } from '../../core/private-deps.js';
import { runSession } from '../../core/run.js';
import { withRegistry } from '../../core/registry.js';
import type { RunRequest, WorkflowTag } from '../../core/run-request.js';
import { exclusionMatcher, planUpload, type UploadPlan } from '../../core/sync/plan.js';
import { AppError } from '../../errors.js';
import { checkOutputFile } from '../output-path.js';
import { createProvider, providerNames } from '../../providers/registry.js';
import { focusPrompt, sessionRequest, type SessionFlags } from './run-flags.js';
import { parseHookTimeout, parseTimeout, readPrompt, timeoutNote } from './run-input.js';
import { checkProviderFiles, providerFileConfig, providerFlagConfig } from '../provider-flags.js';

export { providerFlagConfig };
import { openDb } from '../../store/db.js';
import { SessionRepository } from '../../store/sessions.js';

/** Raw options of `sandbox run` as commander hands them over (plus the provider modules' flags, see {@link providerFlagConfig}). */
export interface RunFlags extends SessionFlags {
  repo?: string;
  /** Push the branch and open a pull request when the run completes (core/merge/git-live.ts). */
  gitLive?: boolean;
  prompt?: string;
  promptFile?: string;
  provider?: string;
  timeout?: string;
  base?: string;
  dryRun?: boolean;
  json?: boolean;
  stream?: boolean;
  localLog?: string;
  allowDomain?: string[];
  cleanup?: boolean;
  keepOnError?: boolean;
  authMethod?: string;
  /** --skip-agent-update; --skip-claude-update is its old name. */
  skipAgentUpdate?: boolean;
  skipClaudeUpdate?: boolean;
  agentCli?: string;
  agentCommand?: string;
  webhook?: string[];
  setup?: string;
  onSuccess?: string;
  onFailure?: string;
  hookTimeout?: string;
  template?: string;
  sandboxConfig?: string;
  /** `--sandbox`: claude-code-templates' name for --provider. */
  sandbox?: string;
  /** Components (repeatable, comma-separable). */
  agent?: string[];
  command?: string[];
  mcp?: string[];
  setting?: string[];
  hook?: string[];
  npmToken?: string;
  npmRegistry?: string;
  githubToken?: string | boolean;
  sshKey?: string;
}

/** The outcome of `sandbox run`: a plan (dry run) or a run summary. */
export type RunOutput = { kind: 'plan'; plan: UploadPlan & { repo: string; base: string; provider: string } } | { kind: 'run'; summary: RunSummary };

/** Parses --provider (default: the configured provider): the name of a registered provider module. */
export function parseProvider(raw: string | undefined, fallback: ProviderName): ProviderName {
  if (raw === undefined) return fallback;
  if (!providerNames().includes(raw)) throw new AppError('usage', `unknown provider "${raw}"`, { hint: `Use one of: ${providerNames().join(', ')}.` });
  return raw as ProviderName;
}

/** The run's webhook receivers: config `webhooks` plus each `--webhook URL` (every event, signed with PARALLEL_CC_WEBHOOK_SECRET). */
export function runWebhooks(flags: RunFlags, config: Config, env: NodeJS.ProcessEnv): WebhookConfig[] {
  const extra = (flags.webhook ?? []).map((url): WebhookConfig => {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new AppError('usage', `--webhook "${url}" is not an http(s) URL`, { hint: 'Example: --webhook https://hooks.example.com/parallel-cc' });
    return { url, ...(env.PARALLEL_CC_WEBHOOK_SECRET ? { secret: env.PARALLEL_CC_WEBHOOK_SECRET } : {}) };
  });
  return [...config.webhooks, ...extra];
}

/**
 * The run's configuration with its template applied: `--template` (or `--sandbox-config`) is a
 * config layer above the environment and below the flags; `--sandbox` is `--provider`.
 */
export async function runConfig(flags: RunFlags, ctx: Context, root: string): Promise<{ config: Config; provider: ProviderName; template?: TemplatePlan }> {
  if (flags.sandbox !== undefined && flags.provider !== undefined && flags.sandbox !== flags.provider)
    throw new AppError('usage', `--sandbox ${flags.sandbox} and --provider ${flags.provider} disagree`, { hint: '--sandbox is another name for --provider: give one of them.' });
  if (flags.template !== undefined && flags.sandboxConfig !== undefined) throw new AppError('usage', 'use either --template or --sandbox-config, not both');
  const layerFlags = { ...providerFlagConfig(flags), ...agentFlagConfig(flags) };
  await providerFileConfig(flags, ctx.cwd, layerFlags);
  // The provider decides how the template maps: read it from the layers without the template first.
  const base = loadConfig({ home: ctx.home, repoRoot: root, env: ctx.env, flags: layerFlags });
  const provider = parseProvider(flags.provider ?? flags.sandbox, base.config.defaultProvider);
  checkProviderFiles(flags, provider);
  const t =
    flags.template !== undefined
      ? loadTemplate(flags.template, { home: ctx.home, repoRoot: root, cwd: ctx.cwd }).template
      : flags.sandboxConfig !== undefined
        ? readTemplateFile(resolve(ctx.cwd, flags.sandboxConfig), 'sandbox-config')
        : undefined;
  if (!t) return { config: base.config, provider };
  const template = planTemplate(t, provider);
  const { config } = loadConfig({ home: ctx.home, repoRoot: root, env: ctx.env, flags: layerFlags, template: { name: template.name, layer: template.configLayer } });
  return { config, provider, template };
}

/** What the user must know about a template on this provider: the fields it ignores, what it changed. */
export function templateWarnings(t: TemplatePlan | undefined, provider: string): string[] {
  if (!t) return [];
  return [...(t.ignored.length ? [`template ${t.name}: the ${provider} provider ignores ${t.ignored.join(', ')}`] : []), ...t.notes];
}

/** The run's hooks: the flags over the template's setup over config `hooks`; an empty command is refused. */
export function runHooks(flags: RunFlags, config: Config, template?: TemplatePlan): RunHooks | undefined {
  for (const [flag, v] of [['--setup', flags.setup], ['--on-success', flags.onSuccess], ['--on-failure', flags.onFailure]] as const) {
    if (v !== undefined && v.trim() === '') throw new AppError('usage', `${flag} is empty`, { hint: `Give a shell command, e.g. ${flag} "npm test".` });
  }
  const timeoutMinutes = parseHookTimeout(flags.hookTimeout, config.hooks.timeoutMinutes);
  const setup = flags.setup ?? template?.setup ?? config.hooks.setup;
  const onSuccess = flags.onSuccess ?? template?.onSuccess ?? config.hooks.onSuccess;
  const onFailure = flags.onFailure ?? template?.onFailure ?? config.hooks.onFailure;
  const packages = template?.packages;
  if (!setup && !onSuccess && !onFailure && !packages) return undefined;
  return { ...(packages ? { packages } : {}), ...(setup ? { setup } : {}), ...(onSuccess ? { onSuccess } : {}), ...(onFailure ? { onFailure } : {}), timeoutMinutes };
}

/** The configuration layer of the agent flags (`--agent-cli`, `--agent-command`); `--multi` uses it too. */
export function agentFlagConfig(flags: RunFlags): Record<string, unknown> {
  return { ...(flags.agentCli !== undefined ? { agentCli: flags.agentCli } : {}), ...(flags.agentCommand !== undefined ? { agentCommand: flags.agentCommand } : {}) };
}

/**
 * `parallel-cc sandbox run`: validates everything first, then plans (dry run) or runs a session.
 * `workflow` tags the session's row when a saved workflow runs (`workflow run`).
 */
export async function runCommand(flags: RunFlags, ctx: Context, emit: (e: StreamEvent) => void, workflow?: WorkflowTag, more: Pick<RunRequest, 'continue'> = {}): Promise<RunOutput> {
  const repo = resolve(ctx.cwd, flags.repo ?? '.');
  const root = await repoRoot(repo);
  const { config, provider, template } = await runConfig(flags, ctx, root);
  const timeoutMinutes = parseTimeout(flags.timeout, template?.timeoutMinutes ?? config.timeoutMinutes);
  const authMethod = parseAuthMethod(flags.authMethod);
  const prompt = focusPrompt(flags, await readPrompt(flags, ctx.cwd));
  const allowDomains = [...(template?.allowDomains ?? []), ...(flags.allowDomain ?? [])];
  for (const w of templateWarnings(template, provider)) emit({ type: 'warning', message: w });
  const note = timeoutNote(flags.timeout);
  if (note) emit({ type: 'phase', phase: 'preparing', message: note });
  checkRunAllowlist(config.providers.native.allowedDomains, allowDomains);
  const privateDeps = await parsePrivateDeps(flags, ctx.env, ctx.cwd);
  if (flags.dryRun) {
    // The run's own checks (session flags, --branch, --worktree): a dry run that passes is a run that starts.
    const { extra } = await sandboxFor(flags, { ctx, root, provider, config, privateDeps });
    const wt = extra.worktree;
    const base = wt ? wt.head : await resolveCommit(root, flags.base ?? 'HEAD');
    // What the run uploads: a continued worktree's branch tip (plus its changes with --include-dirty), else the checkout or the base.
    const plan = wt?.dirty ? await planUpload(wt.path, config.uploadIgnorePatterns) : wt || flags.base !== undefined ? await planTree(root, base, config.uploadIgnorePatterns) : await planUpload(root, config.uploadIgnorePatterns);
    return { kind: 'plan', plan: { ...plan, repo: root, base, provider } };
  }
  if (prompt === undefined) throw new AppError('usage', 'a prompt is required', { hint: 'Pass --prompt "<task>" or --prompt-file <file>.' });
  if (flags.localLog) await checkOutputFile('--local-log', resolve(ctx.cwd, flags.localLog));
  const agent = agentFor(config.agentCli);
  const components = await runComponents(flags, { agent, repoRoot: root, ctx });
  const hooks = runHooks(flags, config, template);
  const webhooks = runWebhooks(flags, config, ctx.env);
  const live = flags.gitLive ? await (await import('../../core/merge/git-live.js')).checkGitLive(root) : undefined;
  const { sandboxProvider, extra } = await sandboxFor(flags, { ctx, root, provider, config, privateDeps });
  const db = openDb(homePaths(ctx.home).db);
  try {
    const sessions = new SessionRepository(db, ctx.now);
    const summary = await runSession(
      {
        repo: root,
        prompt,
        provider,
        ...(flags.base !== undefined ? { base: flags.base } : {}),
        timeoutMinutes,
        allowDomains,
        ...(flags.localLog ? { localLog: resolve(ctx.cwd, flags.localLog) } : {}),
        keepSandbox: flags.cleanup === false || !config.autoCleanup,
        ...(flags.keepOnError ? { keepSandboxOnError: true } : {}),
        ...(authMethod ? { authMethod } : {}),
        ...(flags.skipAgentUpdate || flags.skipClaudeUpdate ? { skipAgentUpdate: true } : {}),
        ...(components.length ? { components } : {}),
        ...(hooks ? { hooks } : {}),
        ...(webhooks.length ? { webhooks } : {}),
        ...(workflow ? { workflow } : {}),
        ...(template ? { template: { name: template.name, env: template.env } } : {}),
        ...more,
        ...(privateDeps ? { privateDeps } : {}),
        ...extra,
      },
      { ctx, config, sessions, provider: sandboxProvider, agent, emit },
    );
    if (live) await (await import('../../core/merge/git-live.js')).afterGitLive(summary, live, ctx, emit);
    return { kind: 'run', summary };
  } finally {
    db.close();
  }
}

/** The run's provider and its #27 request, checked against each other (a run and its dry run alike). */
async function sandboxFor(flags: RunFlags, o: { ctx: Context; root: string; provider: ProviderName; config: Config; privateDeps: unknown }): Promise<{ sandboxProvider: SandboxProvider; extra: Partial<RunRequest> }> {
  const sandboxProvider = await createProvider(o.provider, o.ctx.env, o.config);
  if (o.privateDeps && !(sandboxProvider.capabilities.hostBridges ?? sandboxProvider.capabilities.egressControlled))
    throw new AppError('usage', `--npm-token, --github-token and --ssh-key need a local sandbox (the ${o.provider} provider cannot reach the host's endpoints)`, { hint: 'Use --provider native or --provider docker.' });
  // Read-only: a bad value leaves no registry behind.
  const extra = await withRegistry(o.ctx, (sessions) => sessionRequest(flags, { root: o.root, cwd: o.ctx.cwd, provider: sandboxProvider, sessions }));
  return { sandboxProvider, extra };
}

/** Resolves and validates the run's components (before anything is created); refused for an agent that takes none. */
export async function runComponents(flags: RunFlags, opts: { agent: Agent; repoRoot: string; ctx: Context }): Promise<Component[]> {
  const refs = componentRefs(flags);
  if (!refs.length) return [];
  if (!opts.agent.components) throw new AppError('usage', `the ${opts.agent.name} agent takes no Claude Code components (--agent, --command, --mcp, --setting, --hook)`, { hint: 'Run them with --agent-cli claude, or drop the component flags.' });
  return resolveComponents(refs, { repoRoot: opts.repoRoot, cwd: opts.ctx.cwd, home: opts.ctx.home, ...catalogSettings(opts.ctx.env) });
}

/** Plans the upload of a commit other than HEAD (no working state) without touching the checkout. */
async function planTree(root: string, base: string, extra: readonly string[]): Promise<UploadPlan> {
  const exclude = await exclusionMatcher(root, extra);
  const entries = splitZ(await gitRaw(root, ['ls-tree', '-r', '-z', '--long', base]));
  const plan: UploadPlan = { root, files: [], excluded: [], totalBytes: 0 };
  for (const entry of entries) {
    const m = /^(\d+) (\w+) [0-9a-f]+\s+(-|\d+)\t(.*)$/s.exec(entry);
    if (!m || m[2] !== 'blob') continue;
    const path = m[4] as string;
    const reason = exclude(path);
    if (reason) plan.excluded.push({ path, reason });
    else plan.files.push({ path, size: m[3] === '-' ? 0 : Number(m[3]), kind: m[1] === '120000' ? 'symlink' : 'file' });
  }
  plan.totalBytes = plan.files.reduce((n, f) => n + f.size, 0);
  return plan;
}
