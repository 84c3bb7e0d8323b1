/**
 * A MarketChain for unit tests: the registry of fake-registry.ts and an escrow that keeps jobs in
 * memory with the contract's state changes for the calls the client makes (create_job with its
 * job_created/job_rejected events, confirm, dispute, reclaim with its deadline check, cancel,
 * storage_deposit, withdraw), and sessions (open_session with session_opened/session_rejected,
 * the session view, close by the client after expiry, settle, dispute; the provider's calls come
 * through `providerSide()`, so the real agent can act on this chain). Every view and call is
 * recorded.
 */
import type { Job, Session, StorageBalance } from "@gpu-market/common/src/escrow-types.ts";
import { type SignedVoucher, verifyVoucher } from "@gpu-market/protocol";
import type { CallOptions, CallOutcome, MarketChain, MarketEvent } from "../../src/chain.ts";
import { type FakeMachine, REGISTRY, registryView, type ViewCall } from "./fake-registry.ts";

export const ESCROW = "escrow.test.near";
export const CLIENT = "alice.test.near";

export interface CallRecord {
  contractId: string;
  method: string;
  args: Record<string, unknown>;
  options: CallOptions;
}

function event(name: string, data: unknown): MarketEvent {
  return { standard: "gpumarket", version: "1.0.0", event: name, data: [data] };
}

export class FakeChain implements MarketChain {
  readonly accountId = CLIENT;
  readonly views: ViewCall[] = [];
  readonly calls: CallRecord[] = [];
  readonly jobs = new Map<string, Job>();
  machines: FakeMachine[];
  registryParams: Record<string, unknown> = {};
  /** Block time, ns. */
  now = 1_000_000_000_000n;
  storage: StorageBalance | null = {
    total: "1000000000000000000000000",
    available: "1000000000000000000000000",
  };
  credited = 0n;
  /** When set, create_job is refused with this reason. */
  rejectReason: string | null = null;
  readonly sessions = new Map<string, Session>();
  disputeWindowNs = 3_600_000_000_000n;
  /** Called after a job is created (the test plays the provider). */
  onJobCreated: (job: Job) => void = () => {};
  private nextTx = 0;

  constructor(machines: FakeMachine[]) {
    this.machines = machines;
  }

  async view<T>(contractId: string, method: string, args: Record<string, unknown>): Promise<T> {
    this.views.push({ method, args });
    if (contractId === REGISTRY) {
      const answer = registryView(this.machines, method, args, this.registryParams);
      if (answer === undefined) throw new Error(`fake registry: no view ${method}`);
      return answer as T;
    }
    if (contractId !== ESCROW) throw new Error(`fake chain: unknown contract ${contractId}`);
    switch (method) {
      case "job":
        return (this.jobs.get(String(args.job_id)) ?? null) as T;
      case "storage_balance_of":
        return this.storage as T;
      case "balance_of":
        return this.credited.toString() as T;
      case "session":
        return structuredClone(this.sessions.get(String(args.session_id)) ?? null) as T;
      default:
        throw new Error(`fake escrow: no view ${method}`);
    }
  }

  async blockTimestampNs(): Promise<bigint> {
    return this.now;
  }

  private outcome<T>(value: T, events: MarketEvent[] = []): CallOutcome<T> {
    this.nextTx += 1;
    return { value, txHash: `tx${this.nextTx}`, events, failures: [] };
  }

  private job(args: Record<string, unknown>): Job {
    const job = this.jobs.get(String(args.job_id));
    if (job === undefined) throw new Error(`fake escrow: no job ${String(args.job_id)}`);
    return job;
  }

  private close(job: Job, paid: bigint): void {
    job.client_refund = (BigInt(job.max_amount) - paid).toString();
    this.credited += BigInt(job.client_refund);
  }

  async call<T = unknown>(
    contractId: string,
    method: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<CallOutcome<T>> {
    this.calls.push({ contractId, method, args, options });
    const out = <V>(value: V, events: MarketEvent[] = []) =>
      this.outcome(value, events) as unknown as CallOutcome<T>;
    switch (method) {
      case "storage_deposit":
        this.storage = { total: String(options.deposit), available: String(options.deposit) };
        return out(this.storage);
      case "create_job":
        return out(undefined, [this.createJob(args, options)]);
      case "confirm_job": {
        const job = this.job(args);
        if (job.status !== "delivered") throw new Error(`confirm: job is ${job.status}`);
        job.status = "settled";
        job.settled_by = "client";
        this.close(job, BigInt(job.amount_due ?? "0"));
        return out({ ...job });
      }
      case "dispute_job": {
        const job = this.job(args);
        job.status = "disputed";
        job.dispute_reason = String(args.reason);
        return out({ ...job });
      }
      case "cancel_job": {
        const job = this.job(args);
        if (job.status !== "requested") throw new Error(`cancel: job is ${job.status}`);
        job.status = "refunded";
        job.refund_reason = "cancelled";
        this.close(job, 0n);
        return out({ ...job });
      }
      case "reclaim_job": {
        const job = this.job(args);
        const deadline = job.status === "requested" ? job.accept_deadline : job.deliver_deadline;
        if (this.now <= BigInt(deadline ?? "0")) throw new Error("reclaim: deadline not passed");
        job.status = "refunded";
        job.refund_reason = "accept_timeout";
        this.close(job, 0n);
        return out({ ...job });
      }
      case "open_session":
        return out(undefined, [this.openSession(args, options)]);
      case "close_session": {
        const session = this.session(args);
        if (session.status !== "open") throw new Error(`close: session is ${session.status}`);
        if (this.now <= BigInt(session.expires_at)) throw new Error("close: not expired yet");
        this.closing(session, "client");
        return out(structuredClone(session));
      }
      case "settle_session": {
        const session = this.session(args);
        if (session.status !== "closing") throw new Error(`settle: session is ${session.status}`);
        const early = session.closed_by === "provider";
        if (!early && this.now <= BigInt(session.dispute_deadline ?? "0")) {
          throw new Error("settle: the dispute window is open");
        }
        this.settle(session, early ? "counterparty" : "dispute_window");
        return out(structuredClone(session), [event("session_settled", structuredClone(session))]);
      }
      case "dispute_session": {
        const session = this.session(args);
        if (session.status !== "closing") throw new Error(`dispute: session is ${session.status}`);
        session.status = "disputed";
        session.dispute_reason = String(args.reason);
        return out(structuredClone(session));
      }
      default:
        throw new Error(`fake chain: no call ${method}`);
    }
  }

  private session(args: Record<string, unknown>): Session {
    const session = this.sessions.get(String(args.session_id));
    if (session === undefined)
      throw new Error(`fake escrow: no session ${String(args.session_id)}`);
    return session;
  }

  private closing(session: Session, by: "provider" | "client"): void {
    session.status = "closing";
    session.closed_by = by;
    session.closing_at = this.now.toString();
    session.dispute_deadline = (this.now + this.disputeWindowNs).toString();
  }

  private settle(session: Session, by: "counterparty" | "dispute_window"): void {
    const claimed = BigInt(session.claimed);
    const fee = (claimed * BigInt(session.fee_bps)) / 10_000n;
    session.status = "settled";
    session.settled_by = by;
    session.provider_payout = (claimed - fee).toString();
    session.fee = fee.toString();
    session.client_refund = (BigInt(session.budget) - claimed).toString();
    this.credited += BigInt(session.client_refund);
  }

  private claim(session: Session, voucher: SignedVoucher): void {
    if (BigInt(voucher.nonce) <= BigInt(session.nonce)) throw new Error("claim: stale nonce");
    if (BigInt(voucher.amount) > BigInt(session.budget)) throw new Error("claim: over budget");
    if (
      !verifyVoucher(
        { escrow: ESCROW, session_id: session.id, ...voucher },
        voucher.signature,
        session.client_key,
      )
    ) {
      throw new Error("claim: not signed by the client key");
    }
    session.claimed = voucher.amount;
    session.nonce = voucher.nonce;
    session.voucher_signature = voucher.signature;
  }

  /** The provider's session calls, as the agent's SessionEscrowPort makes them. */
  providerSide() {
    const copy = (session: Session) => structuredClone(session);
    return {
      escrow: ESCROW,
      session: async (id: string) => {
        const session = this.sessions.get(id);
        return session === undefined ? null : copy(session);
      },
      claimSession: async (id: string, voucher: SignedVoucher) => {
        const session = this.session({ session_id: id });
        this.claim(session, voucher);
        return copy(session);
      },
      closeSession: async (id: string, voucher: SignedVoucher | null) => {
        const session = this.session({ session_id: id });
        if (session.status !== "open") throw new Error(`close: session is ${session.status}`);
        if (voucher !== null) this.claim(session, voucher);
        this.closing(session, "provider");
        return copy(session);
      },
      settleSession: async (id: string) => {
        const session = this.session({ session_id: id });
        this.settle(session, "dispute_window");
        return copy(session);
      },
    };
  }

  private openSession(args: Record<string, unknown>, options: CallOptions): MarketEvent {
    const machine = this.machines.find((m) => m.id === args.machine_id);
    if (machine === undefined) throw new Error("fake escrow: unknown machine");
    const budget = String(options.deposit ?? args.budget);
    if (this.rejectReason !== null || args.keyset_sha256 !== machine.machine.keyset_sha256) {
      return event("session_rejected", {
        ...args,
        reason: this.rejectReason ?? "keyset changed",
        refunded_to: CLIENT,
      });
    }
    const id = String(this.sessions.size);
    const session = {
      id,
      client: CLIENT,
      payer: CLIENT,
      client_key: String(args.client_key),
      machine_id: machine.id,
      provider: machine.provider.account_id,
      machine_public_key: machine.machine.machine_public_key,
      price_per_unit: machine.machine.price_per_unit,
      fee_bps: 100,
      keyset_sha256: String(args.keyset_sha256),
      encryption_key: (machine.machine as unknown as { encryption_key: string }).encryption_key,
      asset: "NEAR",
      budget,
      claimed: "0",
      nonce: "0",
      voucher_signature: null,
      status: "open",
      opened_at: this.now.toString(),
      expires_at: (this.now + BigInt(String(args.expires_within_ns))).toString(),
      closed_by: null,
      closing_at: null,
      dispute_deadline: null,
      disputed_at: null,
      dispute_reason: null,
      arbitration_deadline: null,
      resolution_note: null,
      slash_requested: false,
      provider_payout: null,
      fee: null,
      client_refund: null,
      closed_at: null,
      settled_by: null,
    } as Session;
    this.sessions.set(id, session);
    return event("session_opened", structuredClone(session));
  }

  private createJob(args: Record<string, unknown>, options: CallOptions): MarketEvent {
    const id = String(this.jobs.size);
    if (this.rejectReason !== null) {
      return event("job_rejected", { ...args, reason: this.rejectReason, refunded_to: CLIENT });
    }
    const machine = this.machines.find((m) => m.id === args.machine_id);
    if (machine === undefined) throw new Error("fake escrow: unknown machine");
    const job = {
      id,
      client: CLIENT,
      payer: CLIENT,
      machine_id: machine.id,
      provider: machine.provider.account_id,
      machine_public_key: machine.machine.machine_public_key,
      price_per_unit: machine.machine.price_per_unit,
      fee_bps: 100,
      keyset_sha256: args.keyset_sha256,
      encryption_key: (machine.machine as unknown as { encryption_key: string }).encryption_key,
      asset: "NEAR",
      max_amount: String(options.deposit ?? args.max_amount),
      model_hash: args.model_hash,
      input_hash: args.input_hash,
      status: "requested",
      created_at: this.now.toString(),
      accept_deadline: (this.now + BigInt(String(args.accept_within_ns))).toString(),
      deliver_within_ns: args.deliver_within_ns,
      accepted_at: null,
      deliver_deadline: null,
      result_hash: null,
      usage: null,
      model_name: null,
      prompt_tokens: null,
      completion_tokens: null,
      chunks: null,
      signature: null,
      amount_due: null,
      delivered_at: null,
      dispute_deadline: null,
      disputed_at: null,
      dispute_reason: null,
      arbitration_deadline: null,
      resolution_note: null,
      slash_requested: false,
      provider_payout: null,
      fee: null,
      client_refund: null,
      closed_at: null,
      refund_reason: null,
      failure_code: null,
      settled_by: null,
    } as Job;
    this.jobs.set(id, job);
    queueMicrotask(() => this.onJobCreated(job));
    return event("job_created", { ...job });
  }
}
