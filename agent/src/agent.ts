/**
 * The agent's core: every job of this provider's machines moves through the journal's states, one
 * step at a time, each step written down before the chain call or backend request it starts.
 *
 *   waiting ─(envelope, checks pass)─▶ accepting ─▶ accepted ─▶ running ─▶ sealed ─▶ delivered
 *      │                                   │           │           │          │
 *      └──(cannot serve)──▶ failing ─▶ failed ◀────────┴───────────┘          └─(closed on-chain)─▶ closed
 *
 * Accept policy: the job is on one of this agent's machines (it holds the keys the job snapshots),
 * the model is one it serves, the envelope is stored (sha256 = input_hash) and decrypts for this
 * job, the backend answers and lists the model, the queue has room, and the accept deadline is not
 * near. A job that cannot be served is failed at once with the signed code (the client is refunded
 * in full); a job whose envelope never comes is left for the client to reclaim.
 *
 * Each job has one chain of steps (#drive), so no two steps of a job ever overlap; the follower and
 * the HTTP endpoint only write the first record and queue a step, and never wait for one.
 */
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type FailureCode,
  type ModelEntry,
  type OpenedRequest,
  openRequest,
  ProtocolError,
  sha256Hex,
  signFailure,
} from "@gpu-market/protocol";
import type { Backend } from "./backend/openai.ts";
import type { ChainJob, EscrowPort } from "./chain/escrow.ts";
import type { JobEvent } from "./chain/follower.ts";
import { ChainUnreachable, ContractError } from "./chain/near.ts";
import { messageOf } from "./errors.ts";
import type { FramerOptions } from "./executor/frames.ts";
import { RunFailure, runJob } from "./executor/run-job.ts";
import { Slots } from "./executor/slots.ts";
import type { Keyring } from "./keys/keyring.ts";
import type { Logger } from "./log.ts";
import type { Blobs } from "./store/blobs.ts";
import { isTerminal, type JobRecord, type Journal, type LocalState } from "./store/journal.ts";

export interface AgentOptions {
  provider: string;
  escrow: EscrowPort;
  backend: Backend;
  journal: Journal;
  blobs: Blobs;
  keyring: Keyring;
  /** The models this agent serves (weights hashed at start). */
  models: ModelEntry[];
  log: Logger;
  /** Jobs accepted and not yet delivered or failed, at most. */
  maxQueue: number;
  /** Jobs streaming from the backend at once, at most. */
  parallel: number;
  /** Do not accept when the accept deadline is closer than this (the accept must land first). */
  acceptMarginMs?: number;
  /** Stop inference this long before the deliver deadline, so the delivery still lands. */
  deliverMarginMs?: number;
  framing?: FramerOptions;
  /** Base wait between retries of a step that failed for a transient reason. */
  retryMs?: number;
  /** The backend slots, when shared with the session requests (default: `parallel` of its own). */
  slots?: Slots;
  /** Machine keys other work still needs (unfinished sessions): never pruned. */
  keysInUse?: () => { signingKey: string; encryptionKey: string }[];
}

/** What GET /v1/jobs/{id} tells a client (PROTOCOL.md section 7). */
export type PublicStatus = "waiting_for_request" | "running" | "delivered" | "failed";

export interface JobView {
  job_id: string;
  machine_id: string;
  status: PublicStatus;
  input_hash: string;
  response_sha256: string | null;
  frames: number | null;
  failure_code: FailureCode | null;
}

export type SubmitResult =
  | { ok: true; view: JobView; stored: boolean }
  | { ok: false; reason: "unknown_job" | "hash_mismatch" | "not_waiting" };

const ACTIVE: readonly LocalState[] = ["accepting", "accepted", "running", "sealed"];
const DELIVERED: readonly string[] = ["delivered", "disputed", "settled", "resolved"];

function publicStatus(record: JobRecord): PublicStatus {
  switch (record.state) {
    case "waiting":
      return record.envelope ? "running" : "waiting_for_request";
    case "delivered":
      return "delivered";
    case "failing":
    case "failed":
    case "closed":
      return "failed";
    default:
      return "running";
  }
}

/** Milliseconds since a step's time (null when the step was not recorded). */
function since(time: number | undefined): number | null {
  return time === undefined ? null : Date.now() - time;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function msToNs(ms: number): bigint {
  return BigInt(ms) * 1_000_000n;
}

export class Agent {
  /**
   * `start:<job id>` when a job's stream starts, `frame:<job id>` as frames are written, and
   * `end:<job id>` when it stops streaming (answered, failed or closed).
   */
  readonly events = new EventEmitter();
  readonly #o: Required<Omit<AgentOptions, "framing" | "slots" | "keysInUse">> & {
    framing: FramerOptions;
    keysInUse?: AgentOptions["keysInUse"];
  };
  readonly #chains = new Map<string, Promise<void>>();
  readonly #opened = new Map<string, OpenedRequest>();
  /** Jobs open at start: their first step reads the chain, which may have moved while the agent was down. */
  readonly #recovering = new Set<string>();
  /** Jobs the chain's events say are closed, for a waiting job's next step. */
  readonly #closedOnChain = new Map<string, ChainJob>();
  readonly #slots: Slots;
  readonly #abort = new AbortController();
  #stopping = false;
  #sweep: NodeJS.Timeout | null = null;

  constructor(options: AgentOptions) {
    this.#o = {
      acceptMarginMs: 3000,
      deliverMarginMs: 5000,
      retryMs: 500,
      ...options,
      framing: options.framing ?? { maxDeltas: 8, maxDelayMs: 250 },
    };
    this.#slots = options.slots ?? new Slots(options.parallel);
    this.events.setMaxListeners(0);
  }

  get journal(): Journal {
    return this.#o.journal;
  }

  /** Resumes every open job of the journal, and starts closing expired waits every few seconds. */
  start(): void {
    const open = new Set(this.#o.journal.open().map((r) => r.id));
    for (const id of this.#o.blobs.partials()) {
      // An unfinished response of a job not running now is from a stream that cannot resume.
      if (this.#o.journal.get(id)?.state !== "running") this.#o.blobs.dropPartial(id);
    }
    for (const id of open) {
      this.#recovering.add(id);
      this.#drive(id);
    }
    if (open.size > 0) this.#o.log.info(`resuming ${open.size} open job(s)`);
    this.#sweep = setInterval(() => this.#sweepExpired(), 5000);
    this.#sweep.unref();
  }

  /** A job event from the chain. Returns once the job is in the journal; its steps run later. */
  async onJobEvent(event: JobEvent): Promise<void> {
    const { job } = event;
    const record = this.#o.journal.get(job.id);
    if (record !== undefined) {
      // Only a waiting job learns from events (a cancel, a reclaim); the others from their calls.
      if (record.state === "waiting" && job.status !== "requested") {
        this.#closedOnChain.set(job.id, job);
        this.#drive(job.id);
      }
      return;
    }
    if (event.event === "job_created" && job.status === "requested") this.#discover(job);
  }

  /** PUT /v1/jobs/{id}/request: stores the envelope when it is this job's (sha256 = input_hash). */
  async submitEnvelope(id: string, body: Uint8Array): Promise<SubmitResult> {
    let record = this.#o.journal.get(id);
    if (record === undefined) {
      // The follower may not have reached the block yet: ask the chain.
      const job = await this.#o.escrow.job(id);
      if (job === null || job.status !== "requested" || !this.#isOurs(job)) {
        return { ok: false, reason: "unknown_job" };
      }
      const found = this.#o.journal.get(id) ?? this.#discover(job);
      if (found === null) return { ok: false, reason: "unknown_job" };
      record = found;
    }
    if (sha256Hex(body) !== record.input_hash) return { ok: false, reason: "hash_mismatch" };
    if (record.envelope) return { ok: true, view: this.#view(record), stored: false };
    if (record.state !== "waiting") return { ok: false, reason: "not_waiting" };
    this.#o.blobs.putEnvelope(body);
    const next = this.#o.journal.step(id, "waiting", {
      envelope: true,
      times: { envelope: Date.now() },
    });
    this.#o.log.info(`job ${id}: request received`, {
      job: id,
      machine: next.machine_id,
      bytes: body.length,
    });
    this.#drive(id);
    return { ok: true, view: this.#view(next), stored: true };
  }

  /** GET /v1/jobs/{id}: null for a job this agent does not hold. */
  view(id: string): JobView | null {
    const record = this.#o.journal.get(id);
    return record === undefined ? null : this.#view(record);
  }

  /** The journal's record (for the endpoint's response and stream routes). */
  record(id: string): JobRecord | undefined {
    return this.#o.journal.get(id);
  }

  queue(): {
    active: number;
    running: number;
    waiting_for_slot: number;
    max_queue: number;
    parallel: number;
  } {
    return {
      active: this.#activeCount(),
      running: this.#slots.used,
      waiting_for_slot: this.#slots.waiting,
      max_queue: this.#o.maxQueue,
      parallel: this.#o.parallel,
    };
  }

  /**
   * Stops taking work: no more accepts or new runs; streams still running get `graceMs` to finish
   * and deliver, then are stopped and their jobs failed (refunded). Accepted jobs not started stay
   * accepted and resume at the next start.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#sweep !== null) clearInterval(this.#sweep);
    const settled = Promise.allSettled([...this.#chains.values()]);
    const timer = setTimeout(() => this.#abort.abort(), graceMs);
    await settled;
    clearTimeout(timer);
    await Promise.allSettled([...this.#chains.values()]);
  }

  // -- steps ---------------------------------------------------------------------------------

  #isOurs(job: ChainJob): boolean {
    return (
      job.provider === this.#o.provider &&
      job.encryption_key !== null &&
      this.#o.keyring.find(job.machine_public_key, job.encryption_key) !== undefined
    );
  }

  /** Writes the first record of a job of ours and queues its first step (null: not ours). */
  #discover(job: ChainJob): JobRecord | null {
    if (!this.#isOurs(job) || job.keyset_sha256 === null || job.encryption_key === null) {
      this.#o.log.debug(`job ${job.id}: not on a machine this agent holds keys for`, {
        job: job.id,
        machine: job.machine_id,
      });
      return null;
    }
    const record = this.#o.journal.put({
      id: job.id,
      machine_id: job.machine_id,
      client: job.client,
      model_hash: job.model_hash,
      input_hash: job.input_hash,
      keyset_sha256: job.keyset_sha256,
      encryption_key: job.encryption_key,
      machine_public_key: job.machine_public_key,
      accept_deadline: job.accept_deadline,
      deliver_deadline: job.deliver_deadline,
      state: "waiting",
      envelope: this.#o.blobs.hasEnvelope(job.input_hash),
      failure_code: null,
      closed_reason: null,
      delivery: null,
      times: { seen: Date.now() },
    });
    this.#o.log.info(`job ${job.id}: seen`, {
      job: job.id,
      machine: job.machine_id,
      model: this.#model(job.model_hash)?.name ?? job.model_hash,
    });
    this.#drive(job.id);
    return record;
  }

  /** Queues the job's next steps after whatever it is doing now. */
  #drive(id: string): void {
    const previous = this.#chains.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.#advance(id));
    this.#chains.set(id, next);
    next.finally(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
  }

  /** Runs steps until the job is closed or has to wait for something outside. */
  async #advance(id: string): Promise<void> {
    for (;;) {
      const record = this.#o.journal.get(id);
      if (record === undefined || isTerminal(record.state)) return;
      const before = record.state;
      try {
        const progressed = await this.#step(record);
        this.#recovering.delete(id);
        if (!progressed) return;
      } catch (error) {
        if (this.#stopping) return;
        this.#o.log.warn(`job ${id}: ${before} step failed; retrying`, { job: id, error });
        await sleep(this.#o.retryMs * 4);
      }
    }
  }

  /** One step; false when the job waits for something outside (an envelope, a restart). */
  async #step(record: JobRecord): Promise<boolean> {
    switch (record.state) {
      case "waiting":
        return this.#consider(record);
      case "accepting":
        return this.#settleAccepting(record);
      case "accepted":
        if (this.#stopping) return false;
        await this.#run(record);
        return true;
      case "running":
        // Only after a restart: the stream had started, and is never run twice.
        this.#o.blobs.dropPartial(record.id);
        this.#failing(
          record,
          "inference_error",
          "the agent stopped while the answer was streaming",
        );
        return true;
      case "sealed":
        await this.#deliver(record);
        return true;
      case "failing":
        await this.#sendFailure(record);
        return true;
      default:
        return false;
    }
  }

  async #consider(record: JobRecord): Promise<boolean> {
    const closed = this.#closedOnChain.get(record.id);
    if (closed !== undefined) {
      this.#closedOnChain.delete(record.id);
      this.#closeFromChain(record, closed);
      return true;
    }
    const model = this.#model(record.model_hash);
    if (model === undefined) {
      this.#failing(record, "model_unavailable", "the model is not one this agent serves");
      return true;
    }
    if (nowNs() + msToNs(this.#o.acceptMarginMs) >= BigInt(record.accept_deadline)) {
      this.#close(
        record,
        record.envelope
          ? "the accept deadline is too near"
          : "no request before the accept deadline",
      );
      return true;
    }
    if (!record.envelope || this.#stopping) return false;
    const keys = this.#o.keyring.find(record.machine_public_key, record.encryption_key);
    const envelope = this.#o.blobs.readEnvelope(record.input_hash);
    if (keys === undefined || envelope === null) {
      throw new Error(
        keys === undefined ? "the job's machine keys are gone" : "the stored request is damaged",
      );
    }
    let opened: OpenedRequest;
    try {
      opened = await openRequest(this.#binding(record), envelope, keys.encryption);
      if (opened.request.model !== model.name) {
        throw new ProtocolError("bad_input", "request: names another model than the job");
      }
    } catch (error) {
      // Only the code: a message about a decrypted request could carry part of it.
      const code = error instanceof ProtocolError ? error.code : "internal";
      this.#failing(record, "bad_request", `the request does not open for this job (${code})`);
      return true;
    }
    try {
      const served = await this.#o.backend.models();
      if (!served.includes(model.name)) {
        this.#failing(record, "model_unavailable", `the backend does not list ${model.name}`);
        return true;
      }
    } catch (error) {
      this.#failing(record, "backend_unavailable", messageOf(error));
      return true;
    }
    if (this.#activeCount() >= this.#o.maxQueue) {
      this.#failing(record, "capacity", `the queue is full (${this.#o.maxQueue} jobs)`);
      return true;
    }
    this.#opened.set(record.id, opened);
    const accepting = this.#o.journal.step(record.id, "accepting");
    let job: ChainJob;
    try {
      job = await this.#chainCall(() => this.#o.escrow.accept(record.id));
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      // Refused (cancelled meanwhile, deadline passed): the next step reads the job.
      this.#o.log.warn(`job ${record.id}: accept refused`, { job: record.id, error });
      return true;
    }
    this.#accepted(accepting, job);
    return true;
  }

  #accepted(record: JobRecord, job: ChainJob): void {
    this.#o.journal.step(record.id, "accepted", { deliver_deadline: job.deliver_deadline });
    this.#o.log.info(`job ${record.id}: accepted`, {
      job: record.id,
      machine: record.machine_id,
      accept_ms: since(record.times.accepting),
    });
  }

  /** After accept_job (or a crash around it): the chain says whether the job is ours to run. */
  async #settleAccepting(record: JobRecord): Promise<boolean> {
    const job = await this.#chainJob(record.id);
    if (job?.status === "accepted") {
      this.#accepted(record, job);
      return true;
    }
    if (job?.status === "requested") {
      // The accept did not land: decide again (the deadline may have passed meanwhile).
      this.#o.journal.step(record.id, "waiting");
      return true;
    }
    this.#closeFromChain(record, job);
    return true;
  }

  async #run(record: JobRecord): Promise<void> {
    await this.#slots.take();
    try {
      await this.#runWithSlot(record);
    } finally {
      this.#slots.give();
    }
  }

  async #runWithSlot(record: JobRecord): Promise<void> {
    const id = record.id;
    const model = this.#model(record.model_hash);
    const keys = this.#o.keyring.find(record.machine_public_key, record.encryption_key);
    if (model === undefined || keys === undefined) {
      this.#failing(record, "model_unavailable", "the model or the machine keys are gone");
      return;
    }
    let opened = this.#opened.get(id);
    this.#opened.delete(id);
    if (opened === undefined) {
      // After a restart: open the stored request again.
      const envelope = this.#o.blobs.readEnvelope(record.input_hash);
      try {
        if (envelope === null) throw new Error("the stored request is missing");
        opened = await openRequest(this.#binding(record), envelope, keys.encryption);
      } catch {
        this.#failing(record, "bad_request", "the stored request does not open");
        return;
      }
    }
    if (this.#stopping) return;
    const file = this.#o.blobs.startResponse(id);
    this.#o.journal.step(id, "running");
    this.events.emit(`start:${id}`);
    this.#o.log.info(`job ${id}: running`, {
      job: id,
      machine: record.machine_id,
      model: model.name,
      queued_ms: since(record.times.accepted),
    });
    const deadline = record.deliver_deadline === null ? null : BigInt(record.deliver_deadline);
    const untilDeadline =
      deadline === null
        ? 2 ** 31 - 1
        : Math.max(0, Number((deadline - nowNs()) / 1_000_000n) - this.#o.deliverMarginMs);
    const signal = AbortSignal.any([
      this.#abort.signal,
      AbortSignal.timeout(Math.min(untilDeadline, 2 ** 31 - 1)),
    ]);
    try {
      const output = await runJob({
        escrow: this.#o.escrow.escrow,
        jobId: id,
        inputHash: record.input_hash,
        model,
        opened,
        signing: keys.signing,
        backend: this.#o.backend,
        file,
        framing: {
          ...this.#o.framing,
          onFrame: (frames, bytes) => this.events.emit(`frame:${id}`, frames, bytes),
        },
        signal,
      });
      this.#o.journal.step(id, "sealed", { delivery: output.delivery });
      this.#o.log.info(`job ${id}: answered`, {
        job: id,
        machine: record.machine_id,
        prompt_tokens: output.promptTokens,
        completion_tokens: output.completionTokens,
        frames: output.frames,
        first_token_ms: output.firstTokenMs,
        inference_ms: output.inferenceMs,
      });
    } catch (error) {
      file.discard();
      const failure =
        error instanceof RunFailure ? error : new RunFailure("inference_error", messageOf(error));
      this.#failing(record, failure.code, failure.message);
    } finally {
      this.events.emit(`end:${id}`);
    }
  }

  async #deliver(record: JobRecord): Promise<void> {
    const delivery = record.delivery;
    if (delivery === null) throw new Error("internal: a sealed job without its receipt");
    if (this.#recovering.has(record.id)) {
      // The delivery may have landed before the crash: never send it twice.
      const job = await this.#chainJob(record.id);
      if (job?.status !== "accepted") {
        this.#closeFromChain(record, job);
        return;
      }
    }
    try {
      await this.#chainCall(() =>
        this.#o.escrow.deliver(record.id, delivery.receipt, delivery.signature),
      );
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      // Refused: a job still accepted (deliver deadline passed) is failed, so the client is refunded now.
      this.#o.log.warn(`job ${record.id}: delivery refused`, { job: record.id, error });
      const job = await this.#chainJob(record.id);
      if (job?.status === "accepted") {
        this.#failing(record, "inference_error", "the escrow refused the delivery");
        return;
      }
      this.#closeFromChain(record, job);
      return;
    }
    this.#delivered(record);
  }

  #delivered(record: JobRecord): void {
    this.#o.journal.step(record.id, "delivered");
    this.#o.log.info(`job ${record.id}: delivered`, {
      job: record.id,
      machine: record.machine_id,
      deliver_ms: since(record.times.sealed),
      total_ms: since(record.times.envelope ?? record.times.seen),
    });
    this.#pruneKeys();
  }

  /** Records the decision to fail a job; the next step sends fail_job. */
  #failing(record: JobRecord, code: FailureCode, reason: string): void {
    this.#opened.delete(record.id);
    this.#o.journal.step(record.id, "failing", { failure_code: code, closed_reason: reason });
    this.events.emit(`end:${record.id}`);
    this.#o.log.warn(`job ${record.id}: cannot serve it (${code}): ${reason}`, {
      job: record.id,
      machine: record.machine_id,
      code,
    });
  }

  async #sendFailure(record: JobRecord): Promise<void> {
    const code = record.failure_code;
    if (code === null) throw new Error("internal: a failing job without its code");
    if (this.#recovering.has(record.id)) {
      // The failure may have landed before the crash (or the job closed otherwise meanwhile).
      const job = await this.#chainJob(record.id);
      if (job?.status !== "requested" && job?.status !== "accepted") {
        this.#closeFromChain(record, job);
        return;
      }
    }
    const keys = this.#o.keyring.find(record.machine_public_key, record.encryption_key);
    if (keys === undefined) throw new Error("the job's machine keys are gone");
    const signature = signFailure(
      { escrow: this.#o.escrow.escrow, job_id: record.id, code },
      keys.signing,
    );
    try {
      await this.#chainCall(() => this.#o.escrow.fail(record.id, code, signature));
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      this.#o.log.warn(`job ${record.id}: fail_job refused`, { job: record.id, error });
      const job = await this.#chainJob(record.id);
      if (job?.status === "requested" || job?.status === "accepted") throw error;
      this.#closeFromChain(record, job);
      return;
    }
    this.#failed(record, code);
  }

  #failed(record: JobRecord, code: FailureCode): void {
    this.#o.journal.step(record.id, "failed");
    this.#o.log.info(`job ${record.id}: failed with ${code}; the client is refunded`, {
      job: record.id,
      machine: record.machine_id,
      code,
    });
    this.#pruneKeys();
  }

  /** The chain says the job is past the step it is in: record how it ended. */
  #closeFromChain(record: JobRecord, job: ChainJob | null): void {
    if (job !== null && DELIVERED.includes(job.status) && record.delivery !== null) {
      this.#delivered(record);
    } else if (
      job?.status === "refunded" &&
      job.failure_code !== null &&
      job.failure_code === record.failure_code
    ) {
      this.#failed(record, job.failure_code);
    } else {
      this.#close(
        record,
        job === null ? "the job does not exist on-chain" : `the job is ${job.status} on-chain`,
      );
    }
  }

  #close(record: JobRecord, reason: string): void {
    this.#opened.delete(record.id);
    this.#o.blobs.dropPartial(record.id);
    this.#o.journal.step(record.id, "closed", { closed_reason: reason });
    this.events.emit(`end:${record.id}`);
    this.#o.log.info(`job ${record.id}: closed (${reason})`, {
      job: record.id,
      machine: record.machine_id,
    });
    this.#pruneKeys();
  }

  /** Closes waiting jobs whose accept deadline has passed without a request. */
  #sweepExpired(): void {
    const now = nowNs();
    for (const record of this.#o.journal.open()) {
      if (record.state === "waiting" && !record.envelope && now >= BigInt(record.accept_deadline)) {
        this.#drive(record.id);
      }
    }
  }

  #pruneKeys(): void {
    const inUse = this.#o.journal
      .open()
      .map((r) => ({ signingKey: r.machine_public_key, encryptionKey: r.encryption_key }))
      .concat(this.#o.keysInUse?.() ?? []);
    const removed = this.#o.keyring.prune(inUse);
    if (removed > 0)
      this.#o.log.info(`forgot ${removed} previous machine key(s): their jobs are closed`);
  }

  // -- helpers -------------------------------------------------------------------------------

  #model(weightsSha256: string): ModelEntry | undefined {
    return this.#o.models.find((m) => m.weights_sha256 === weightsSha256);
  }

  #activeCount(): number {
    return this.#o.journal.count(ACTIVE);
  }

  /** What the request was sealed for: this escrow and the job's client, machine, model and keyset. */
  #binding(record: JobRecord) {
    return {
      escrow: this.#o.escrow.escrow,
      client: record.client,
      machine_id: record.machine_id,
      model: record.model_hash,
      keyset_sha256: record.keyset_sha256,
    };
  }

  #view(record: JobRecord): JobView {
    return {
      job_id: record.id,
      machine_id: record.machine_id,
      status: publicStatus(record),
      input_hash: record.input_hash,
      response_sha256: record.delivery?.receipt.response_sha256 ?? null,
      frames: record.delivery === null ? null : Number(record.delivery.receipt.chunks),
      failure_code: record.state === "failed" ? record.failure_code : null,
    };
  }

  /** The job as the chain has it now (retrying an RPC that does not answer). */
  #chainJob(id: string): Promise<ChainJob | null> {
    return this.#chainCall(() => this.#o.escrow.job(id));
  }

  /** Retries while the RPC does not answer; a contract's refusal is thrown at once. */
  async #chainCall<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof ChainUnreachable) || attempt >= 6) throw error;
        this.#o.log.warn("the chain's RPC does not answer; retrying", { attempt, error });
        await sleep(this.#o.retryMs * 2 ** attempt);
      }
    }
  }
}
