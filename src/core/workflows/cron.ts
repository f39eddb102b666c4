import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { shellJoin } from '../../providers/remote/quote.js';
import { run } from '../exec.js';
import { checkName } from './store.js';

/** One cron field: digits, `*`, ranges, steps, lists, and month/day names. */
const FIELD = /^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Checks a schedule: five cron fields (`0 3 * * *`) or a macro (`@daily`); nothing that could end the line or start a command. */
export function checkCron(expr: string): string {
  const fields = expr.trim().split(/\s+/);
  const ok = fields.length === 1 ? MACROS.has(fields[0] ?? '') : fields.length === 5 && fields.every((f) => FIELD.test(f));
  if (!ok) throw new AppError('usage', `--cron "${expr}" is not a cron schedule`, { hint: 'Five fields, minute hour day month weekday: --cron "0 3 * * *" (03:00 daily), or @daily / @hourly.' });
  return fields.join(' ');
}

/** The end of each line we write: how `--remove` finds it again. */
const marker = (name: string): string => `# parallel-cc workflow ${name}`;

/** What `schedule` remembers so `--remove` restores the crontab exactly. */
interface CronState {
  line: string;
  /** The crontab did not end with a newline, so one was added before our line. */
  addedNewline: boolean;
  /** There was no crontab at all. */
  hadCrontab: boolean;
}

/** Where crontab runs, and how `workflow run` is started from it. */
export interface CronDeps {
  home: string;
  env: NodeJS.ProcessEnv;
  /** argv that starts this parallel-cc (node and its bin.js). */
  self: readonly string[];
  /** The folder cron changes to first (a repository's workflows are found from it). */
  cwd: string;
}

const stateFile = (home: string, name: string): string => join(home, 'workflows', '.cron', `${name}.json`);

/** The user's crontab (`crontab -l`), or undefined when there is none. */
async function readCrontab(env: NodeJS.ProcessEnv): Promise<Buffer | undefined> {
  const r = await run(['crontab', '-l'], { env, okCodes: [0, 1], errorKind: 'environment' });
  if (r.exitCode === 0) return r.stdout;
  if (/no crontab/i.test(r.stderr)) return undefined;
  throw new AppError('environment', `\`crontab -l\` failed: ${r.stderr.trim()}`, { hint: 'Check that cron is installed and you may use it (crontab -l).' });
}

const writeCrontab = (env: NodeJS.ProcessEnv, bytes: Buffer): Promise<unknown> => run(['crontab', '-'], { env, input: bytes, errorKind: 'environment', hint: 'Check that cron is installed and you may use it.' });

/**
 * Adds one line to the user's crontab that runs `workflow run <name>` on `expr`, its output appended
 * to `<home>/workflows/<name>.cron.log`. A crontab line is a shell command by cron's design: every
 * word is quoted once here, and a `%` (cron's newline) or a line break is refused.
 */
export async function scheduleWorkflow(name: string, expr: string, deps: CronDeps): Promise<{ line: string }> {
  checkName(name);
  const when = checkCron(expr);
  const log = join(deps.home, 'workflows', `${name}.cron.log`);
  const words = ['cd', deps.cwd, '&&', 'env', `PARALLEL_CC_HOME=${deps.home}`, `PATH=${deps.env.PATH ?? '/usr/bin:/bin'}`, ...deps.self, 'workflow', 'run', name];
  for (const w of [...words, log]) if (/[%\n\r]/.test(w)) throw new AppError('usage', `cannot schedule: "${w}" contains % or a line break, which cron would split`, { hint: 'Move parallel-cc or its home to a path without %.' });
  const command = `${shellJoin(words.slice(0, 2))} && ${shellJoin(words.slice(3))} >> ${shellJoin([log])} 2>&1`;
  const line = `${when} ${command} ${marker(name)}`;
  const current = await readCrontab(deps.env);
  const text = current?.toString('latin1') ?? '';
  if (text.split('\n').some((l) => l.endsWith(marker(name)))) throw new AppError('usage', `workflow ${name} is already scheduled`, { hint: `Remove it first: parallel-cc workflow schedule ${name} --remove` });
  const addedNewline = text !== '' && !text.endsWith('\n');
  const state: CronState = { line, addedNewline, hadCrontab: current !== undefined };
  await mkdir(join(deps.home, 'workflows', '.cron'), { recursive: true, mode: 0o700 });
  await writeFile(stateFile(deps.home, name), JSON.stringify(state), { mode: 0o600 });
  await writeCrontab(deps.env, Buffer.concat([current ?? Buffer.alloc(0), Buffer.from(`${addedNewline ? '\n' : ''}${line}\n`)]));
  return { line };
}

/**
 * Removes the line {@link scheduleWorkflow} wrote and whatever it added, so the crontab's bytes are
 * what they were (no crontab at all again when there was none). Without its record, lines ending
 * in the workflow's marker are removed.
 */
export async function unscheduleWorkflow(name: string, deps: Pick<CronDeps, 'home' | 'env'>): Promise<{ removed: boolean }> {
  checkName(name);
  const state = await readFile(stateFile(deps.home, name), 'utf8').then((t) => JSON.parse(t) as CronState, () => undefined);
  const current = await readCrontab(deps.env);
  // latin1: one char per byte, so the user's bytes survive whatever their encoding.
  const text = current?.toString('latin1') ?? '';
  const ours = state ? `${Buffer.from(state.line, 'utf8').toString('latin1')}\n` : undefined;
  let next: string;
  if (state && ours && text.includes(ours)) {
    const at = text.lastIndexOf(ours);
    next = text.slice(0, at) + text.slice(at + ours.length);
    if (state.addedNewline && at === next.length && next.endsWith('\n')) next = next.slice(0, -1);
  } else next = text.split(/(?<=\n)/).filter((l) => !l.replace(/\n$/, '').endsWith(marker(name))).join('');
  const removed = next !== text;
  if (removed) {
    if (next === '' && state && !state.hadCrontab) await run(['crontab', '-r'], { env: deps.env, errorKind: 'environment' });
    else await writeCrontab(deps.env, Buffer.from(next, 'latin1'));
  }
  await rm(stateFile(deps.home, name), { force: true });
  return { removed };
}
