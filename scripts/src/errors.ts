/**
 * The one error type commands throw: what went wrong, the fix to try, and the exit code. The CLI
 * prints `error: <message>` and `fix: <hint>`; anything else that escapes is a bug and says so.
 */

/** Exit codes: 1 a failed command, 2 a usage error (bad flags or arguments). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  /** Structured detail for --json output (e.g. the preflight checks). */
  readonly details: unknown;

  constructor(
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown; details?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
    this.details = options.details;
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, { hint, exitCode: EXIT_USAGE });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
