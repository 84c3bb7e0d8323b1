/**
 * An in-memory double of the escrow for unit tests: the job states and checks of deliver_job and
 * fail_job, and the session rules of claim_session, close_session and settle_session (signatures
 * verified with the protocol's own verifiers), and a way to "kill" the agent in the middle of a
 * call: the call hangs forever, after (or before) its effect on the chain.
 */
import type { DeliveryReceipt } from "@gpu-market/common/src/escrow-types.ts";
import {
  type FailureCode,
  type SignedVoucher,
  verifyFailure,
  verifyReceipt,
  verifyVoucher,
} from "@gpu-market/protocol";
import type { ChainJob, EscrowPort } from "../../src/chain/escrow.ts";
import { ContractError } from "../../src/chain/near.ts";
import type { ChainSession, SessionEscrowPort } from "../../src/chain/sessions.ts";

export type Method = "accept" | "deliver" | "fail";
export type SessionMethod = "claim" | "close" | "settle";

export class FakeEscrow implements EscrowPort, SessionEscrowPort {
  readonly escrow = "escrow.test.near";
  readonly jobs = new Map<string, ChainJob>();
  readonly calls: { method: Method; id: string }[] = [];
  /** The next call of this method hangs forever: after its effect ("landed") or before ("lost"). */
  hang: { method: Method; landed: boolean } | null = null;
  deliverWithinNs = 600n * 1_000_000_000n;

  add(job: ChainJob): void {
    this.jobs.set(job.id, structuredClone(job));
  }

  async job(id: string): Promise<ChainJob | null> {
    const job = this.jobs.get(id);
    return job === undefined ? null : structuredClone(job);
  }

  #get(id: string): ChainJob {
    const job = this.jobs.get(id);
    if (job === undefined) throw new ContractError(`job ${id} does not exist`);
    return job;
  }

  async #call(method: Method, id: string, effect: () => void): Promise<ChainJob> {
    this.calls.push({ method, id });
    const hang = this.hang?.method === method ? this.hang : null;
    if (hang !== null) this.hang = null;
    if (hang !== null && !hang.landed) return new Promise(() => {});
    effect();
    if (hang !== null) return new Promise(() => {});
    return structuredClone(this.#get(id));
  }

  count(method: Method, id: string): number {
    return this.calls.filter((c) => c.method === method && c.id === id).length;
  }

  accept(id: string): Promise<ChainJob> {
    return this.#call("accept", id, () => {
      const job = this.#get(id);
      if (job.status !== "requested")
        throw new ContractError(`job ${id} is ${job.status}, not requested`);
      const now = BigInt(Date.now()) * 1_000_000n;
      if (now > BigInt(job.accept_deadline))
        throw new ContractError(`job ${id}: the accept deadline has passed`);
      job.status = "accepted";
      job.deliver_deadline = (now + this.deliverWithinNs).toString();
    });
  }

  deliver(id: string, receipt: DeliveryReceipt, signature: string): Promise<ChainJob> {
    return this.#call("deliver", id, () => {
      const job = this.#get(id);
      if (job.status !== "accepted")
        throw new ContractError(`job ${id} is ${job.status}, not accepted`);
      if (receipt.weights_sha256 !== job.model_hash || receipt.request_sha256 !== job.input_hash) {
        throw new ContractError("receipt: not this job's model or input");
      }
      if (
        !verifyReceipt(
          { escrow: this.escrow, job_id: id, ...receipt },
          signature,
          job.machine_public_key,
        )
      ) {
        throw new ContractError("signature: not by the machine key");
      }
      job.status = "delivered";
      this.receipts.set(id, { receipt, signature });
    });
  }

  readonly receipts = new Map<string, { receipt: DeliveryReceipt; signature: string }>();

  fail(id: string, code: FailureCode, signature: string): Promise<ChainJob> {
    return this.#call("fail", id, () => {
      const job = this.#get(id);
      if (job.status !== "requested" && job.status !== "accepted") {
        throw new ContractError(`job ${id} is ${job.status}`);
      }
      if (
        !verifyFailure({ escrow: this.escrow, job_id: id, code }, signature, job.machine_public_key)
      ) {
        throw new ContractError("signature: not by the machine key");
      }
      job.status = "refunded";
      job.failure_code = code;
    });
  }

  // -- sessions ------------------------------------------------------------------------------

  readonly sessions = new Map<string, ChainSession>();
  readonly sessionCalls: { method: SessionMethod; id: string }[] = [];
  /** How many times the session view was read (the agent reads it once per new session). */
  sessionReads = 0;
  disputeWindowNs = 3_600n * 1_000_000_000n;
  feeBps = 100n;

  addSession(session: ChainSession): void {
    this.sessions.set(session.id, structuredClone(session));
  }

  async session(id: string): Promise<ChainSession | null> {
    this.sessionReads++;
    const session = this.sessions.get(id);
    return session === undefined ? null : structuredClone(session);
  }

  #session(id: string): ChainSession {
    const session = this.sessions.get(id);
    if (session === undefined) throw new ContractError(`session ${id} does not exist`);
    return session;
  }

  #claimVoucher(session: ChainSession, voucher: SignedVoucher): void {
    if (BigInt(voucher.nonce) <= BigInt(session.nonce)) {
      throw new ContractError(`nonce: ${voucher.nonce} is not above ${session.nonce}`);
    }
    if (BigInt(voucher.amount) > BigInt(session.budget)) {
      throw new ContractError(`amount: ${voucher.amount} is over the budget`);
    }
    const document = { escrow: this.escrow, session_id: session.id, ...voucher };
    if (!verifyVoucher(document, voucher.signature, session.client_key)) {
      throw new ContractError("signature: not by the session's client key");
    }
    session.claimed = voucher.amount;
    session.nonce = voucher.nonce;
  }

  async #sessionCall(
    method: SessionMethod,
    id: string,
    effect: (session: ChainSession) => void,
  ): Promise<ChainSession> {
    this.sessionCalls.push({ method, id });
    const session = this.#session(id);
    const copy = structuredClone(session);
    effect(copy);
    this.sessions.set(id, copy);
    return structuredClone(copy);
  }

  countSession(method: SessionMethod, id: string): number {
    return this.sessionCalls.filter((c) => c.method === method && c.id === id).length;
  }

  claimSession(id: string, voucher: SignedVoucher): Promise<ChainSession> {
    return this.#sessionCall("claim", id, (session) => {
      const now = BigInt(Date.now()) * 1_000_000n;
      if (
        session.status !== "open" &&
        !(session.status === "closing" && now <= BigInt(session.dispute_deadline ?? "0"))
      ) {
        throw new ContractError(`session ${id} is ${session.status}: cannot claim`);
      }
      this.#claimVoucher(session, voucher);
    });
  }

  closeSession(id: string, voucher: SignedVoucher | null): Promise<ChainSession> {
    return this.#sessionCall("close", id, (session) => {
      if (session.status !== "open") throw new ContractError(`session ${id} is ${session.status}`);
      if (voucher !== null) this.#claimVoucher(session, voucher);
      this.#closing(session, "provider");
    });
  }

  /** The client closes an expired session (close_session by the client). */
  closeByClient(id: string): void {
    const session = this.#session(id);
    if (session.status !== "open") throw new ContractError(`session ${id} is ${session.status}`);
    this.#closing(session, "client");
  }

  #closing(session: ChainSession, by: "provider" | "client"): void {
    const now = BigInt(Date.now()) * 1_000_000n;
    session.status = "closing";
    session.closed_by = by;
    session.dispute_deadline = (now + this.disputeWindowNs).toString();
  }

  settleSession(id: string): Promise<ChainSession> {
    return this.#sessionCall("settle", id, (session) => {
      const now = BigInt(Date.now()) * 1_000_000n;
      if (session.status !== "closing" || now <= BigInt(session.dispute_deadline ?? "0")) {
        throw new ContractError(`session ${id} cannot settle yet (${session.status})`);
      }
      const claimed = BigInt(session.claimed);
      const fee = (claimed * this.feeBps) / 10_000n;
      session.status = "settled";
      session.fee = fee.toString();
      session.provider_payout = (claimed - fee).toString();
      session.client_refund = (BigInt(session.budget) - claimed).toString();
    });
  }
}
