/**
 * The one error type the CLI knows how to render. Every failure a user can hit is an AppError that
 * says what happened (message), why (cause), and what to do (hint); `kind` decides the exit code.
 */
export type ErrorKind =
  | 'usage' // bad flags or input: exit 2
  | 'environment' // a prerequisite is missing (bwrap, git, claude): exit 3
  | 'agent' // the agent or sandbox failed: exit 1
  | 'timeout' // the run hit --timeout: exit 4
  | 'results' // the agent's results could not be brought back safely: exit 5
  | 'not_found' // a session or file does not exist: exit 6
  | 'interrupted' // Ctrl-C / SIGTERM: exit 130
  | 'internal'; // a bug: exit 70

/** Exit code for each error kind; documented in README ("Exit codes"). */
export const EXIT_CODES: Record<ErrorKind, number> = {
  usage: 2,
  environment: 3,
  agent: 1,
  timeout: 4,
  results: 5,
  not_found: 6,
  interrupted: 130,
  internal: 70,
};

/** A user-facing error with a kind (→ exit code) and an optional hint on how to recover. */
export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  /** Extra machine-readable details (rendered into --json errors). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    kind: ErrorKind,
    message: string,
    opts: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.hint = opts.hint;
    this.details = opts.details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/** Turns anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError('internal', `unexpected error: ${message}`, {
    cause: err,
    hint: 'This is a bug in parallel-cc. Re-run with PARALLEL_CC_LOG_LEVEL=debug and report the output.',
  });
}
