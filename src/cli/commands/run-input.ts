import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { durationMinutes } from '../../config/duration.js';
import { MAX_TIMEOUT_MINUTES } from '../../config/schema.js';
import { AppError } from '../../errors.js';

// The prompt and --timeout of a run, as `sandbox run` and `--multi` read them.

/** Largest prompt accepted (1 MiB): far beyond any model context, small enough to fail fast. */
export const MAX_PROMPT_BYTES = 1024 * 1024;

const tooBig = (what: string, bytes: number): AppError =>
  new AppError('usage', `${what} is ${(bytes / 1024 / 1024).toFixed(1)} MiB; the limit is ${MAX_PROMPT_BYTES / 1024 / 1024} MiB`, {
    hint: 'Put large material in the repository and refer to it from a short prompt.',
  });

/** Reads the prompt from --prompt or --prompt-file and rejects what cannot reach the agent intact. */
export async function readPrompt(flags: { prompt?: string; promptFile?: string }, cwd: string): Promise<string | undefined> {
  if (flags.prompt !== undefined && flags.promptFile !== undefined) throw new AppError('usage', 'use either --prompt or --prompt-file, not both');
  let prompt = flags.prompt;
  if (flags.promptFile !== undefined) {
    const file = resolve(cwd, flags.promptFile);
    const size = await stat(file).then(
      (st) => (st.isFile() ? st.size : -1),
      () => undefined,
    );
    if (size === -1) throw new AppError('usage', `--prompt-file ${file} is not a regular file`);
    if (size !== undefined && size > MAX_PROMPT_BYTES) throw tooBig(`--prompt-file ${file}`, size);
    const bytes = await readFile(file).catch((e: unknown) => {
      throw new AppError('usage', `cannot read --prompt-file ${file}: ${(e as Error).message}`);
    });
    prompt = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (!Buffer.from(prompt, 'utf8').equals(bytes)) throw new AppError('usage', `--prompt-file ${file} is not valid UTF-8`, { hint: 'Save the prompt as UTF-8 text.' });
  }
  if (prompt === undefined) return undefined;
  if (prompt.trim() === '') throw new AppError('usage', 'the prompt is empty');
  const bytes = Buffer.byteLength(prompt, 'utf8');
  if (bytes > MAX_PROMPT_BYTES) throw tooBig('the prompt', bytes);
  if (prompt.includes('\0')) throw new AppError('usage', 'the prompt contains a NUL byte', { hint: 'Prompts are text; remove the NUL bytes.' });
  return prompt;
}

/** A bare whole number above 60: claude-code-templates' seconds (`--timeout 300`). */
const bareSeconds = (raw: string): boolean => /^\d+$/.test(raw) && Number(raw) > MAX_TIMEOUT_MINUTES;

/** A duration in minutes (bare numbers are minutes), NaN when it is not one. Plain decimals and s/m/h only: Number() would also take "0x10", "1e1" or " 5 ". */
const minutesOf = (raw: string): number => (/^\d+(\.\d+)?[smh]?$/.test(raw) ? (durationMinutes(raw, 'm') ?? NaN) : NaN);

/**
 * Parses --timeout: a duration with a unit (30m, 1800s, 1h), or a bare number — minutes up to 60
 * (our rule), and a whole number above 60 seconds (claude-code-templates' `--timeout 300`): no
 * timeout is over 60 minutes, so such a number can only mean seconds (said by {@link timeoutNote}).
 * More than 0, at most 60 minutes.
 */
export function parseTimeout(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = bareSeconds(raw) ? Number(raw) / 60 : minutesOf(raw);
  if (bareSeconds(raw) && n > MAX_TIMEOUT_MINUTES)
    throw new AppError('usage', `--timeout ${raw} is more than ${MAX_TIMEOUT_MINUTES} minutes read as seconds (a bare number up to ${MAX_TIMEOUT_MINUTES} is minutes, above it seconds)`, { hint: 'Write the unit to be sure: --timeout 30m, --timeout 1800s, --timeout 1h (at most 60 minutes).' });
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_MINUTES)
    throw new AppError('usage', `--timeout must be more than 0 and at most ${MAX_TIMEOUT_MINUTES} minutes, got "${raw}"`, { hint: 'Examples: --timeout 30, --timeout 30m, --timeout 1800s.' });
  return n;
}

/** The note a bare `--timeout 300` gets: how it was read, and how to say it without doubt. */
export function timeoutNote(raw: string | undefined): string | undefined {
  if (raw === undefined || !bareSeconds(raw)) return undefined;
  return `--timeout ${raw} read as ${raw} seconds (${Math.round((Number(raw) / 60) * 10) / 10} min): bare numbers up to ${MAX_TIMEOUT_MINUTES} are minutes, larger ones seconds; write ${raw}s to say so`;
}

/** Parses --hook-timeout: a duration (10m, 600s, 1h; bare numbers are minutes), more than 0, at most 60 minutes. */
export function parseHookTimeout(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = minutesOf(raw);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_MINUTES) throw new AppError('usage', `--hook-timeout must be more than 0 and at most ${MAX_TIMEOUT_MINUTES} minutes, got "${raw}"`, { hint: 'Examples: --hook-timeout 10m, --hook-timeout 600s.' });
  return n;
}
