/**
 * The agent's one error for its commands: what went wrong, the fix to try and the exit code
 * (1 a failed command, 2 a usage error), as the gpu-market CLI prints them.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class AgentError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AgentError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

export function usageError(message: string, hint?: string): AgentError {
  return new AgentError(message, { hint, exitCode: EXIT_USAGE });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
