/**
 * The escrow as the agent uses it: read a job, accept it, deliver it with the signed receipt, fail
 * it with the signed failure code; read, claim, close and settle a session; withdraw earnings.
 * The job and session views are checked for the fields the agent relies on before anything is
 * decided from them.
 */
import type { DeliveryReceipt, Job, JobStatus } from "@gpu-market/common/src/escrow-types.ts";
import type { FailureCode, SignedVoucher } from "@gpu-market/protocol";
import { type NearClient, TGAS } from "./near.ts";
import { type ChainSession, parseChainSession, type SessionEscrowPort } from "./sessions.ts";

export type ChainJob = Pick<
  Job,
  | "id"
  | "client"
  | "machine_id"
  | "provider"
  | "machine_public_key"
  | "keyset_sha256"
  | "encryption_key"
  | "model_hash"
  | "input_hash"
  | "status"
  | "accept_deadline"
  | "deliver_deadline"
  | "failure_code"
>;

const STATUSES: readonly JobStatus[] = [
  "requested",
  "accepted",
  "delivered",
  "disputed",
  "settled",
  "resolved",
  "refunded",
];
const STRINGS = [
  "id",
  "client",
  "machine_id",
  "provider",
  "machine_public_key",
  "model_hash",
  "input_hash",
  "accept_deadline",
] as const;
const NULLABLE = ["keyset_sha256", "encryption_key", "deliver_deadline", "failure_code"] as const;

/** The fields of an escrow Job (from a view or an event) the agent reads, or an error naming the first bad one. */
export function parseChainJob(value: unknown, where: string): ChainJob {
  if (typeof value !== "object" || value === null) throw new Error(`${where}: not a job object`);
  const record = value as Record<string, unknown>;
  for (const key of STRINGS) {
    if (typeof record[key] !== "string") throw new Error(`${where}.${key}: expected a string`);
  }
  for (const key of NULLABLE) {
    const field = record[key];
    if (field !== null && field !== undefined && typeof field !== "string") {
      throw new Error(`${where}.${key}: expected a string or null`);
    }
  }
  if (!STATUSES.includes(record.status as JobStatus)) {
    throw new Error(`${where}.status: "${String(record.status)}" is not a job status`);
  }
  const job = {} as Record<string, unknown>;
  for (const key of [...STRINGS, "status"]) job[key] = record[key];
  for (const key of NULLABLE) job[key] = record[key] ?? null;
  return job as unknown as ChainJob;
}

/** What the agent needs from the escrow; the unit tests give a double of it. */
export interface EscrowPort {
  readonly escrow: string;
  job(id: string): Promise<ChainJob | null>;
  /** Each call returns the job as the call left it. */
  accept(id: string): Promise<ChainJob>;
  deliver(id: string, receipt: DeliveryReceipt, signature: string): Promise<ChainJob>;
  fail(id: string, code: FailureCode, signature: string): Promise<ChainJob>;
}

export class Escrow implements EscrowPort, SessionEscrowPort {
  readonly escrow: string;
  readonly #near: NearClient;

  constructor(near: NearClient, escrow: string) {
    this.#near = near;
    this.escrow = escrow;
  }

  async job(id: string): Promise<ChainJob | null> {
    const value = await this.#near.view<unknown>(this.escrow, "job", { job_id: id });
    return value === null ? null : parseChainJob(value, `job ${id}`);
  }

  async #jobCall(method: string, args: Record<string, unknown>, gas: bigint): Promise<ChainJob> {
    const outcome = await this.#near.call(this.escrow, method, args, { gas });
    return parseChainJob(outcome.value, `${method} ${String(args.job_id)}`);
  }

  // accept_job and deliver_job ask the registry whether the machine is still eligible (a call
  // and a callback of the escrow's): ~80 and ~90 Tgas.
  accept(id: string): Promise<ChainJob> {
    return this.#jobCall("accept_job", { job_id: id }, 150n * TGAS);
  }

  deliver(id: string, receipt: DeliveryReceipt, signature: string): Promise<ChainJob> {
    return this.#jobCall("deliver_job", { job_id: id, receipt, signature }, 150n * TGAS);
  }

  fail(id: string, code: FailureCode, signature: string): Promise<ChainJob> {
    return this.#jobCall("fail_job", { job_id: id, code, signature }, 100n * TGAS);
  }

  async session(id: string): Promise<ChainSession | null> {
    const value = await this.#near.view<unknown>(this.escrow, "session", { session_id: id });
    return value === null ? null : parseChainSession(value, `session ${id}`);
  }

  async #sessionCall(method: string, args: Record<string, unknown>): Promise<ChainSession> {
    // No cross-contract call: a voucher's ed25519 check and the bookkeeping fit in 100 Tgas.
    const outcome = await this.#near.call(this.escrow, method, args, { gas: 100n * TGAS });
    return parseChainSession(outcome.value, `${method} ${String(args.session_id)}`);
  }

  claimSession(id: string, voucher: SignedVoucher): Promise<ChainSession> {
    return this.#sessionCall("claim_session", { session_id: id, ...voucher });
  }

  closeSession(id: string, voucher: SignedVoucher | null): Promise<ChainSession> {
    return this.#sessionCall("close_session", {
      session_id: id,
      ...(voucher === null ? {} : { voucher }),
    });
  }

  settleSession(id: string): Promise<ChainSession> {
    return this.#sessionCall("settle_session", { session_id: id });
  }

  /** The provider's credited balance of `asset` ("NEAR" or a token account). */
  async balance(asset: string): Promise<bigint> {
    const value = await this.#near.view<string>(this.escrow, "balance_of", {
      account_id: this.#near.accountId,
      asset,
    });
    return BigInt(value);
  }

  /** Withdraws `amount` (everything credited when null) of `asset`; 1 yoctoNEAR attached. */
  async withdraw(asset: string, amount: bigint | null): Promise<string> {
    const outcome = await this.#near.call(
      this.escrow,
      "withdraw",
      { asset, ...(amount === null ? {} : { amount: amount.toString() }) },
      { gas: 100n * TGAS, deposit: 1n },
    );
    return outcome.txHash;
  }
}
