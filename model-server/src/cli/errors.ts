/**
 * The CLI's one error type: what went wrong, the fix to try, the exit code (1 a failed
 * command, 2 a usage error). The CLI prints `error: <message>` and `fix: <hint>`.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, { hint, exitCode: EXIT_USAGE });
}
