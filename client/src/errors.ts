/**
 * The one error type the client throws. `code` is stable and tells a program what to do next; the
 * message names what failed. When a job exists, `jobId` names it (`sessionId` a session), and
 * `refunded` says whether its funds were credited back to the payer's escrow balance (withdraw them with `market.withdraw()`).
 */

export type ClientErrorCode =
  /** An option or a request field is wrong; nothing was sent. */
  | "bad_input"
  /** No eligible machine serves the model (within the price limit). */
  | "no_machine"
  /** The machine asked for is not eligible, or does not serve the model. */
  | "machine_ineligible"
  /** The registry's keyset fields do not hash to its keyset_sha256. */
  | "keyset_mismatch"
  /** The machine's evidence, quote or REPORTDATA does not check out. */
  | "attestation_failed"
  /** A none-dev machine (no TEE, no quote) and allowDevMachines was not given. */
  | "dev_machine"
  /** The NEAR RPC could not be reached or a view failed. */
  | "rpc_error"
  /** A transaction failed. */
  | "transaction_failed"
  /** The escrow refused to create the job (the deposit went back). */
  | "job_rejected"
  /** The provider's endpoint refused a request or could not be reached. */
  | "endpoint_error"
  /** The provider gave the job back unserved (fail_job); the payer was refunded in full. */
  | "job_failed"
  /** The provider missed its deadline; the job was reclaimed and the payer refunded in full. */
  | "deadline_passed"
  /** The job was closed with a refund some other way (cancelled, reclaimed by another call). */
  | "job_refunded"
  /** Someone else settled, disputed or resolved the delivered job before this client could. */
  | "job_closed"
  /** The delivered answer did not check out; the job was disputed. */
  | "disputed"
  /** The session cannot take this request: closed, expiring, or its budget left is short. */
  | "session_unavailable"
  /** The agent refused the session request or voucher (nothing charged); failureCode says why. */
  | "session_refused"
  /** A session answer or receipt did not check out: no more vouchers are signed for it. */
  | "bad_receipt";

export interface ClientErrorOptions {
  jobId?: string;
  sessionId?: string;
  /** The funds are back in the payer's escrow balance. */
  refunded?: boolean;
  /** The failure code of a failed job (fail_job), or the agent's code refusing a session request. */
  failureCode?: string;
  txHash?: string;
  cause?: unknown;
}

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly jobId: string | undefined;
  readonly sessionId: string | undefined;
  readonly refunded: boolean;
  readonly failureCode: string | undefined;
  readonly txHash: string | undefined;

  constructor(code: ClientErrorCode, message: string, options: ClientErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "ClientError";
    this.code = code;
    this.jobId = options.jobId;
    this.sessionId = options.sessionId;
    this.refunded = options.refunded ?? false;
    this.failureCode = options.failureCode;
    this.txHash = options.txHash;
  }
}

export function clientError(
  code: ClientErrorCode,
  message: string,
  options?: ClientErrorOptions,
): never {
  throw new ClientError(code, message, options);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
