import { z } from 'zod';
import { AppError } from '../../errors.js';
import { providerModules } from '../../providers/registry.js';

/** Run flags that take text (the `sandbox run` option names in camelCase, as commander gives them). */
const STRING_FLAGS = [
  'repo', 'prompt', 'promptFile', 'provider', 'sandbox', 'timeout', 'base', 'localLog', 'authMethod', 'agentCli', 'agentCommand',
  'setup', 'onSuccess', 'onFailure', 'hookTimeout', 'template', 'sandboxConfig', 'taskFile', 'maxConcurrent', 'outputDir', 'budgetPerTask', 'budget',
  'workingDir', 'worktree', 'branch', 'gitUser', 'gitEmail', 'focusPhase', 'npmRegistry', 'sshKey',
] as const;
/** Run flags that are switches (`cleanup`/`stream` are the `--no-` ones). */
const BOOLEAN_FLAGS = ['dryRun', 'cleanup', 'keepOnError', 'stream', 'skipAgentUpdate', 'skipClaudeUpdate', 'multi', 'failFast', 'includeDirty', 'uploadRepo', 'gitLive'] as const;
/**
 * Run flags that carry a secret: never saved in a definition (a file anyone with the home can read
 * and that `workflow show` prints); where the workflow runs they come from the environment.
 */
export const SECRET_RUN_FLAGS: Readonly<Record<string, string>> = {
  npmToken: 'PARALLEL_CC_NPM_TOKEN',
  githubToken: 'GITHUB_TOKEN (with githubToken left out, run with --github-token on the command line)',
};
/** Repeatable run flags. */
const LIST_FLAGS = ['allowDomain', 'webhook', 'agent', 'command', 'mcp', 'setting', 'hook', 'task'] as const;

/** `--docker-image <name>` → `dockerImage`: commander's attribute name of an option. */
const attributeName = (flags: string): string =>
  (/--([a-z0-9-]+)/i.exec(flags)?.[1] ?? '').replace(/^no-/, '').replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** The provider modules' own run flags (`dockerImage`, `e2bTemplate`, …): text values. */
export function providerFlagKeys(): string[] {
  return providerModules().flatMap((m) => [...(m.flags ?? []), ...(m.configFile ? [m.configFile] : [])].map((f) => attributeName(f.flags)));
}

/** Every run flag a definition may name (a test checks it against the `sandbox run` options); the secret ones only to refuse them. */
export function runFlagKeys(): string[] {
  return [...STRING_FLAGS, ...providerFlagKeys(), ...BOOLEAN_FLAGS, ...LIST_FLAGS, ...Object.keys(SECRET_RUN_FLAGS)];
}

/** Names a workflow may have: a file name, never a path. */
export const WORKFLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The zod schema of the saved `sandbox run` flags (strict: an unknown key is named). */
export function runFlagsSchema(): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const k of [...STRING_FLAGS, ...providerFlagKeys()]) shape[k] = z.string().optional();
  for (const k of BOOLEAN_FLAGS) shape[k] = z.boolean().optional();
  for (const k of LIST_FLAGS) shape[k] = z.array(z.string()).optional();
  for (const [k, env] of Object.entries(SECRET_RUN_FLAGS))
    shape[k] = z.custom<never>((v) => v === undefined, { message: `a token is never saved in a workflow; set ${env} where it runs` }).optional();
  return z.object(shape).strict();
}

/** Retries of transient failures: at most `max` more attempts, `delay` seconds before the first, times `backoff` each time. */
export const retrySchema = z
  .object({
    max: z.number().int().min(0).max(10),
    delay: z.number().min(0).max(3600).default(5),
    backoff: z.number().min(1).max(10).default(2),
  })
  .strict();

/** A retry policy. */
export type RetryPolicy = z.infer<typeof retrySchema>;

/** The one schema of a saved workflow file. */
export function definitionSchema(): z.ZodType<WorkflowDefinition> {
  return z
    .object({
      version: z.literal(1),
      name: z.string().regex(WORKFLOW_NAME),
      description: z.string().max(500).optional(),
      /** Where the equivalent `sandbox run` was typed: relative paths of `run` are relative to it (absent in a repo's own workflows: the repo root). */
      cwd: z.string().startsWith('/').optional(),
      run: runFlagsSchema(),
      retry: retrySchema.optional(),
      /** spec 002's cleanup_on_error: false keeps the sandbox of a run that did not complete (`--keep-on-error`). */
      cleanupOnError: z.boolean().optional(),
    })
    .strict() as unknown as z.ZodType<WorkflowDefinition>;
}

/** A saved workflow: the flags of an equivalent `sandbox run` and how to retry it. */
export interface WorkflowDefinition {
  version: 1;
  name: string;
  description?: string;
  cwd?: string;
  run: Record<string, unknown>;
  retry?: RetryPolicy;
  cleanupOnError?: boolean;
}

/** The path of a zod issue as `run.timeout` / `retry.max` (or `(top level)`). */
const keyOf = (path: ReadonlyArray<string | number>): string => (path.length ? path.join('.') : '(top level)');

/**
 * Parses and validates a definition; `source` (a file, or `--set`) is named in the error with the
 * first offending key, e.g. `~/.parallel-cc/workflows/x.json: run.timout: unknown key`.
 */
export function parseDefinition(value: unknown, source: string): WorkflowDefinition {
  const r = definitionSchema().safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const unknown = issue?.code === 'unrecognized_keys' ? issue.keys : [];
    const key = unknown.length ? keyOf([...(issue?.path ?? []), ...unknown]) : keyOf(issue?.path ?? []);
    const what = unknown.length ? `unknown key${unknown.length > 1 ? 's' : ''}` : (issue?.message ?? 'invalid');
    throw new AppError('usage', `invalid workflow definition ${source}: ${key}: ${what}`, { hint: 'Fix or remove the key; `parallel-cc workflow create --help` lists what a workflow may hold.' });
  }
  checkPrompt(r.data, source);
  return r.data;
}

/** A workflow needs a task: --prompt/--prompt-file, or --task/--task-file with --multi. */
function checkPrompt(def: WorkflowDefinition, source: string): void {
  const run = def.run;
  const single = run.prompt !== undefined || run.promptFile !== undefined;
  const multi = run.task !== undefined || run.taskFile !== undefined;
  if (!single && !multi) throw new AppError('usage', `invalid workflow definition ${source}: run: no task (prompt, promptFile, task or taskFile)`, { hint: 'Give --prompt, --prompt-file, or --multi with --task/--task-file.' });
  if (multi && run.multi !== true) throw new AppError('usage', `invalid workflow definition ${source}: run.multi: task/taskFile need multi: true`, { hint: 'Add --multi to run several tasks.' });
  if (def.retry && def.retry.max > 0 && run.multi === true) throw new AppError('usage', `invalid workflow definition ${source}: retry: retries are for single runs, not --multi`, { hint: 'Drop --retries, or save each task as its own workflow.' });
}

/** Which flag keys take which value, for `--set key=value`. */
function flagType(key: string): 'string' | 'boolean' | 'list' | undefined {
  if ((STRING_FLAGS as readonly string[]).includes(key) || providerFlagKeys().includes(key)) return 'string';
  if ((BOOLEAN_FLAGS as readonly string[]).includes(key)) return 'boolean';
  if ((LIST_FLAGS as readonly string[]).includes(key)) return 'list';
  return undefined;
}

/**
 * Applies `--set key=value` overrides to a definition's run flags (`timeout=1`, `provider=docker`,
 * `cleanup=false`, `allowDomain=a.com,b.com`); the key may be camelCase or the flag's spelling
 * (`prompt-file`). The result is validated again.
 */
export function applySets(def: WorkflowDefinition, sets: readonly string[]): WorkflowDefinition {
  const run: Record<string, unknown> = { ...def.run };
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new AppError('usage', `--set "${set}" is not key=value`, { hint: 'Example: --set timeout=10m' });
    const key = attributeName(`--${set.slice(0, eq)}`);
    const value = set.slice(eq + 1);
    const type = flagType(key);
    if (type === undefined) throw new AppError('usage', `--set ${set.slice(0, eq)}: not a run flag`, { hint: 'Use a `sandbox run` flag name: timeout, prompt, provider, base, …' });
    if (type === 'boolean') {
      if (value !== 'true' && value !== 'false') throw new AppError('usage', `--set ${key}: must be true or false, got "${value}"`);
      run[key] = value === 'true';
    } else run[key] = type === 'list' ? value.split(',').filter((v) => v !== '') : value;
    // A new prompt replaces the saved one of the other spelling.
    if (key === 'prompt') delete run.promptFile;
    if (key === 'promptFile') delete run.prompt;
  }
  return parseDefinition({ ...def, run }, '(after --set)');
}
