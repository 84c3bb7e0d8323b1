/**
 * An in-memory double of the escrow for unit tests: the job states and checks of deliver_job and
 * fail_job (signatures verified with the protocol's own verifiers), and a way to "kill" the agent
 * in the middle of a call: the call hangs forever, after (or before) its effect on the chain.
 */
import type { DeliveryReceipt } from "@gpu-market/common/src/escrow-types.ts";
import { type FailureCode, verifyFailure, verifyReceipt } from "@gpu-market/protocol";
import type { ChainJob, EscrowPort } from "../../src/chain/escrow.ts";
import { ContractError } from "../../src/chain/near.ts";

export type Method = "accept" | "deliver" | "fail";

export class FakeEscrow implements EscrowPort {
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
}
