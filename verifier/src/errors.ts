/**
 * A failed check. `code` is stable (tests, logs and verdict reasons key on it); `message` says
 * exactly what was wrong, with the values involved.
 */
export class VerificationError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "VerificationError";
    this.code = code;
  }
}

export function fail(code: string, message: string): never {
  throw new VerificationError(code, message);
}
