/**
 * Errors of the confidential protocol. `code` is stable and safe to show to a remote party; the
 * message may name fields of the caller's own input but never plaintext or key material.
 */
export type ProtocolErrorCode =
  | "bad_input"
  | "bad_envelope"
  | "decrypt_failed"
  | "bad_response"
  | "bad_signature";

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

export function fail(code: ProtocolErrorCode, message: string): never {
  throw new ProtocolError(code, message);
}
