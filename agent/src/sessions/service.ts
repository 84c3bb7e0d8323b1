/**
 * Inference sessions on the provider's side (PROTOCOL.md, "Sessions"): serves each request paid
 * by a voucher, with no transaction, and closes, claims and settles the session on-chain.
 *
 * A request is served only when every check passes, in this order, and a refusal changes
 * nothing: the session is on-chain, on one of this agent's machines, open, not closing and not
 * within `requestMarginMs` of expiring; the voucher is signed by the session's client key, its
 * nonce is above every nonce seen, its amount within the budget; the request opens for this
 * session and names a model served here; the amount covers charged + the request's quote. Then
 * the voucher is stored (durably) before the backend sees the request, the answer streams back
 * sealed frame by frame, and `charged` and the signed receipt are stored before the receipt is
 * sent. A request that fails while running charges nothing.
 *
 * Once the agent has seen a session open it trusts its own record: before `expires_at` only the
 * provider can move a session out of `open`, and the agent stops serving well before then. So a
 * request costs no RPC call after the session's first.
 *
 * On-chain, each session's steps run one at a time (reading the session first, so a restart
 * resumes from the chain's truth): close with the best voucher when the client asks or
 * `closeMarginMs` before expiry; claim the best voucher when the client closed; settle once the
 * dispute (or arbitration) window is over.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { SessionStatus } from "@gpu-market/common/src/escrow-types.ts";
import {
  chargedAfter,
  type ModelEntry,
  type OpenedRequest,
  openSessionRequest,
  ProtocolError,
  parseSignedVoucher,
  type SessionBinding,
  type SessionReceipt,
  type SignedVoucher,
  sessionQuote,
  signSessionReceipt,
  verifyVoucher,
  voucherRefusal,
} from "@gpu-market/protocol";
import type { Backend } from "../backend/openai.ts";
import { ChainUnreachable, ContractError } from "../chain/near.ts";
import type { ChainSession, SessionEscrowPort } from "../chain/sessions.ts";
import { messageOf } from "../errors.ts";
import type { FramerOptions } from "../executor/frames.ts";
import { RunFailure } from "../executor/run-job.ts";
import type { Slots } from "../executor/slots.ts";
import type { Keyring } from "../keys/keyring.ts";
import type { Logger } from "../log.ts";
import { isFinished, type SessionRecord, type SessionStore } from "../store/sessions.ts";
import { HashingSink, runSessionRequest } from "./run-request.ts";

export type SessionErrorCode =
  | "bad_request"
  | "unknown_session"
  | "session_not_open"
  | "session_expiring"
  | "bad_signature"
  | "stale_nonce"
  | "over_budget"
  | "voucher_too_low"
  | "busy"
  | "model_unavailable"
  | "stopping";

const HTTP_STATUS: Record<SessionErrorCode, number> = {
  bad_request: 400,
  model_unavailable: 400,
  bad_signature: 403,
  unknown_session: 404,
  session_not_open: 409,
  session_expiring: 409,
  stale_nonce: 409,
  busy: 409,
  over_budget: 402,
  voucher_too_low: 402,
  stopping: 503,
};

/** A request refused before anything was stored or run: the HTTP answer's status and body. */
export class SessionRefusal extends Error {
  readonly code: SessionErrorCode;
  readonly status: number;

  constructor(code: SessionErrorCode, message: string) {
    super(message);
    this.name = "SessionRefusal";
    this.code = code;
    this.status = HTTP_STATUS[code];
  }
}

function refuse(code: SessionErrorCode, message: string): never {
  throw new SessionRefusal(code, message);
}

/** The HTTP answer of a session request, once every check has passed. */
export interface AnswerStream {
  /** Sends the headers: the request was accepted. */
  begin(): void;
  write(line: Uint8Array): void;
  /** Aborts when the client goes away. */
  readonly gone: AbortSignal;
}

/** What GET /v1/sessions/{id} tells the client. */
export interface SessionView {
  session_id: string;
  machine_id: string;
  client: string;
  status: SessionStatus;
  close_requested: boolean;
  asset: string;
  price_per_unit: string;
  budget: string;
  charged: string;
  budget_left: string;
  nonce: string;
  voucher_amount: string | null;
  requests: number;
  expires_at: string;
  closed_by: "provider" | "client" | null;
  claimed: string;
  dispute_deadline: string | null;
  provider_payout: string | null;
  client_refund: string | null;
  last_receipt: { receipt: SessionReceipt; signature: string } | null;
}

export interface SessionEvent {
  event: string;
  session: ChainSession;
}

export interface SessionServiceOptions {
  provider: string;
  escrow: SessionEscrowPort;
  backend: Backend;
  store: SessionStore;
  keyring: Keyring;
  models: ModelEntry[];
  log: Logger;
  /** Shared with the job runner: requests streaming from the backend at once. */
  slots: Slots;
  framing?: FramerOptions;
  /** Refuse requests when expires_at is closer than this. */
  requestMarginMs?: number;
  /** Close on-chain when expires_at is closer than this; running requests stop by then. */
  closeMarginMs?: number;
  /** How often sessions are looked at for a close, claim or settle that is due. */
  sweepMs?: number;
  retryMs?: number;
  /** The chain's time in ns (expiries and deadlines are block times); default the wall clock. */
  now?: () => bigint;
}

const HEX32 = /^[0-9a-f]{64}$/;
const RANK: Record<SessionStatus, number> = {
  open: 0,
  closing: 1,
  disputed: 2,
  settled: 3,
  resolved: 3,
};
const encoder = new TextEncoder();

function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function msToNs(ms: number): bigint {
  return BigInt(ms) * 1_000_000n;
}

function line(value: unknown): Uint8Array {
  return encoder.encode(`${JSON.stringify(value)}\n`);
}

interface RequestBody {
  envelope: Uint8Array;
  model: string;
  voucher: SignedVoucher;
}

function parseJson(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return refuse("bad_request", "body: not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    refuse("bad_request", "body: expected a JSON object");
  }
  return value as Record<string, unknown>;
}

function parseVoucherField(value: unknown): SignedVoucher {
  try {
    return parseSignedVoucher(value, "voucher");
  } catch (error) {
    return refuse("bad_request", messageOf(error));
  }
}

/** {envelope: <the envelope's exact text>, model: <weights sha256>, voucher}. */
function parseRequestBody(body: Uint8Array): RequestBody {
  const value = parseJson(body);
  for (const key of Object.keys(value)) {
    if (key !== "envelope" && key !== "model" && key !== "voucher") {
      refuse("bad_request", `body: unknown field "${key}" (allowed: envelope, model, voucher)`);
    }
  }
  if (typeof value.envelope !== "string" || value.envelope === "") {
    refuse("bad_request", "body.envelope: expected the envelope's JSON text");
  }
  if (typeof value.model !== "string" || !HEX32.test(value.model)) {
    refuse("bad_request", "body.model: expected the model's weights sha256 (64 lowercase hex)");
  }
  return {
    envelope: encoder.encode(value.envelope),
    model: value.model,
    voucher: parseVoucherField(value.voucher),
  };
}

/** {voucher}: what /vouchers and /close take. */
function parseVoucherBody(body: Uint8Array): SignedVoucher {
  const value = parseJson(body);
  for (const key of Object.keys(value)) {
    if (key !== "voucher") refuse("bad_request", `body: unknown field "${key}" (allowed: voucher)`);
  }
  return parseVoucherField(value.voucher);
}

export class SessionService {
  readonly #o: Required<Omit<SessionServiceOptions, "framing">> & { framing: FramerOptions };
  /** Sessions with a request, a voucher or a chain step in progress: one at a time per session. */
  readonly #busy = new Set<string>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();
  #stopping = false;
  #sweep: NodeJS.Timeout | null = null;

  constructor(options: SessionServiceOptions) {
    this.#o = {
      requestMarginMs: 30_000,
      closeMarginMs: 15_000,
      sweepMs: 5000,
      retryMs: 500,
      now: wallClockNs,
      ...options,
      framing: options.framing ?? { maxDeltas: 8, maxDelayMs: 250 },
    };
  }

  /** Resumes every unfinished session from the chain, and starts the periodic sweep. */
  start(): void {
    const unfinished = this.#o.store.unfinished();
    for (const record of unfinished) this.#drive(record.id, true);
    if (unfinished.length > 0) {
      this.#o.log.info(`resuming ${unfinished.length} unfinished session(s)`);
    }
    this.#sweep = setInterval(() => {
      for (const record of this.#o.store.unfinished()) this.#drive(record.id, false);
    }, this.#o.sweepMs);
    this.#sweep.unref();
  }

  /** Stops serving: running requests get `graceMs`, then stop (charging nothing). */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#sweep !== null) clearInterval(this.#sweep);
    const deadline = Date.now() + graceMs;
    while (this.#busy.size > 0 && Date.now() < deadline) await sleep(20);
    this.#abort.abort();
    await Promise.allSettled([...this.#chains.values()]);
  }

  view(id: string): SessionView | null {
    const record = this.#o.store.get(id);
    return record === undefined ? null : viewOf(record);
  }

  /** Sessions the agent holds, for `provider status` and /health. */
  list(): SessionView[] {
    return this.#o.store.all().map(viewOf);
  }

  // -- requests ------------------------------------------------------------------------------

  /**
   * POST /v1/sessions/{id}/requests. Throws SessionRefusal (nothing stored, nothing run) until
   * `answer.begin()`; after it, the answer ends with the signed receipt or an error line.
   */
  async serveRequest(id: string, body: Uint8Array, answer: AnswerStream): Promise<void> {
    const parsed = parseRequestBody(body);
    const record = await this.#enter(id);
    try {
      await this.#serve(record, parsed, answer);
    } finally {
      this.#busy.delete(id);
    }
  }

  async #serve(known: SessionRecord, body: RequestBody, answer: AnswerStream): Promise<void> {
    const { voucher } = body;
    this.#requireServing(known);
    this.#requireSigned(known, voucher);
    const state = {
      budget: BigInt(known.budget),
      charged: BigInt(known.charged),
      nonce: BigInt(known.nonce),
    };
    const early = voucherRefusal(state, voucher, 0n);
    if (early !== null) refuse(early.code, early.message);
    const model = this.#o.models.find((m) => m.weights_sha256 === body.model);
    if (model === undefined) refuse("model_unavailable", "the model is not one this agent serves");
    const keys = this.#o.keyring.find(known.machine_public_key, known.encryption_key);
    if (keys === undefined)
      refuse("unknown_session", "this agent no longer holds the session's keys");
    let opened: OpenedRequest;
    try {
      opened = await openSessionRequest(
        this.#binding(known, model),
        body.envelope,
        keys.encryption,
      );
    } catch (error) {
      // Only the code: a message about a decrypted request could carry part of it.
      const code = error instanceof ProtocolError ? error.code : "internal";
      return refuse("bad_request", `the request does not open for this session (${code})`);
    }
    if (opened.request.model !== model.name) {
      refuse("bad_request", `the request names another model than ${model.name}`);
    }
    const quote = sessionQuote(
      BigInt(known.price_per_unit),
      opened.requestBytes,
      opened.request.max_tokens,
    );
    const refusal = voucherRefusal(state, voucher, quote);
    if (refusal !== null) refuse(refusal.code, refusal.message);

    // Accepted. The voucher counts from here, whatever happens to the request.
    const id = known.id;
    this.#o.store.update(
      id,
      { nonce: voucher.nonce, voucher },
      known.requests === 0 ? "first_request" : undefined,
    );
    answer.begin();
    const started = Date.now();
    await this.#o.slots.take();
    const untilClose =
      Number((BigInt(known.expires_at) - this.#o.now()) / 1_000_000n) - this.#o.closeMarginMs;
    const signal = AbortSignal.any([
      answer.gone,
      this.#abort.signal,
      AbortSignal.timeout(Math.max(0, Math.min(untilClose, 2 ** 31 - 1))),
    ]);
    try {
      const run = await runSessionRequest({
        opened,
        model,
        backend: this.#o.backend,
        sink: new HashingSink((frame) => answer.write(frame)),
        framing: this.#o.framing,
        signal,
      });
      const charged = chargedAfter(
        state.charged,
        BigInt(known.price_per_unit),
        BigInt(run.promptTokens),
        BigInt(run.completionTokens),
        BigInt(voucher.amount),
      );
      const receipt: SessionReceipt = {
        escrow: this.#o.escrow.escrow,
        session_id: id,
        request_id: opened.requestId,
        model: model.name,
        weights_sha256: model.weights_sha256,
        request_sha256: opened.inputHash,
        response_sha256: run.responseSha256,
        prompt_tokens: String(run.promptTokens),
        completion_tokens: String(run.completionTokens),
        charged: charged.toString(),
        nonce: voucher.nonce,
      };
      const signature = signSessionReceipt(receipt, keys.signing);
      const current = this.#o.store.get(id);
      this.#o.store.update(
        id,
        {
          charged: receipt.charged,
          last_receipt: { receipt, signature },
          requests: (current?.requests ?? known.requests) + 1,
        },
        "last_request",
      );
      answer.write(line({ receipt, signature }));
      this.#o.log.info(`session ${id}: answered`, {
        session: id,
        machine: known.machine_id,
        nonce: voucher.nonce,
        prompt_tokens: run.promptTokens,
        completion_tokens: run.completionTokens,
        charged: receipt.charged,
        frames: run.frames,
        first_token_ms: run.firstTokenMs,
        total_ms: Date.now() - started,
      });
    } catch (error) {
      const failure =
        error instanceof RunFailure ? error : new RunFailure("inference_error", messageOf(error));
      answer.write(line({ error: failure.message, code: failure.code }));
      this.#o.log.warn(`session ${id}: request failed, nothing charged (${failure.code})`, {
        session: id,
        nonce: voucher.nonce,
        code: failure.code,
      });
    } finally {
      this.#o.slots.give();
    }
  }

  // -- vouchers and closing -------------------------------------------------------------------

  /**
   * POST /v1/sessions/{id}/vouchers (close = false): a voucher without a request, typically the
   * client's last one for exactly what was charged. POST /v1/sessions/{id}/close (close = true):
   * the same, and the agent closes the session on-chain with it before answering. The voucher
   * authenticates the client: only its session key signs one.
   */
  async submitVoucher(id: string, body: Uint8Array, close: boolean): Promise<SessionView> {
    const voucher = parseVoucherBody(body);
    const known = await this.#enter(id);
    try {
      if (close && known.status !== "open") return viewOf(known);
      const claimable =
        known.status === "open" ||
        (known.status === "closing" &&
          known.closed_by === "client" &&
          this.#o.now() < BigInt(known.dispute_deadline ?? "0"));
      if (!claimable) refuse("session_not_open", `session ${id} is ${known.status}`);
      this.#requireSigned(known, voucher);
      const refusal = voucherRefusal(
        {
          budget: BigInt(known.budget),
          charged: BigInt(known.charged),
          nonce: BigInt(known.nonce),
        },
        voucher,
        0n,
      );
      if (refusal !== null) refuse(refusal.code, refusal.message);
      this.#o.store.update(
        id,
        { nonce: voucher.nonce, voucher, close_requested: close || known.close_requested },
        close ? "close_requested" : "voucher",
      );
      this.#o.log.info(
        `session ${id}: ${close ? "the client asks to close" : "voucher received"}`,
        {
          session: id,
          nonce: voucher.nonce,
          amount: voucher.amount,
        },
      );
    } finally {
      this.#busy.delete(id);
    }
    await this.#drive(id, true);
    const after = this.#o.store.get(id);
    if (after === undefined) throw new Error(`internal: session ${id} vanished`);
    return viewOf(after);
  }

  /** A session event from the chain (the follower): learn it, and act if something is due. */
  async onSessionEvent(event: SessionEvent): Promise<void> {
    const { session } = event;
    if (!this.#isOurs(session)) return;
    const record = this.#o.store.get(session.id);
    if (record === undefined) {
      // Remembered from its opening, so that it is closed (and the budget freed) even if unused.
      if (session.status !== "open") return;
      this.#o.store.put(recordOf(session));
      this.#o.log.info(`session ${session.id}: opened`, {
        session: session.id,
        machine: session.machine_id,
        budget: session.budget,
        expires_at: session.expires_at,
      });
      return;
    }
    this.#learn(record, session);
    this.#drive(session.id, event.event === "session_closing");
  }

  // -- steps on-chain --------------------------------------------------------------------------

  /** Queues the session's next chain step after the one it is doing now; resolves when done. */
  #drive(id: string, force: boolean): Promise<void> {
    const previous = this.#chains.get(id) ?? Promise.resolve();
    const next = previous.then(() =>
      this.#step(id, force).catch((error) => {
        if (!this.#stopping) {
          this.#o.log.warn(`session ${id}: chain step failed; retrying later`, { error });
        }
      }),
    );
    this.#chains.set(id, next);
    next.finally(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
    return next;
  }

  /** Whether a chain step may be due (without reading the chain). */
  #due(record: SessionRecord, now: bigint): boolean {
    switch (record.status) {
      case "open":
        return (
          record.close_requested || now + msToNs(this.#o.closeMarginMs) >= BigInt(record.expires_at)
        );
      case "closing": {
        const deadline = BigInt(record.dispute_deadline ?? "0");
        return now > deadline || (now < deadline && this.#claimable(record));
      }
      case "disputed":
        return now > BigInt(record.arbitration_deadline ?? "0");
      default:
        return false;
    }
  }

  /** The client closed, and the agent holds a voucher the escrow has not recorded. */
  #claimable(record: SessionRecord): boolean {
    return (
      record.closed_by === "client" &&
      record.voucher !== null &&
      BigInt(record.voucher.nonce) > BigInt(record.claimed_nonce)
    );
  }

  async #step(id: string, force: boolean): Promise<void> {
    const record = this.#o.store.get(id);
    if (record === undefined || isFinished(record) || this.#stopping) return;
    if (!force && !this.#due(record, this.#o.now())) return;
    // A request or voucher of this session is being handled: look again at the next sweep.
    if (this.#busy.has(id)) return;
    this.#busy.add(id);
    try {
      const chain = await this.#chainCall(() => this.#o.escrow.session(id));
      if (chain === null) {
        this.#o.log.warn(`session ${id}: not on the escrow`, { session: id });
        return;
      }
      const current = this.#learn(record, chain);
      const now = this.#o.now();
      if (chain.status === "open") {
        if (
          current.close_requested ||
          now + msToNs(this.#o.closeMarginMs) >= BigInt(chain.expires_at)
        ) {
          await this.#close(current, chain);
        }
      } else if (chain.status === "closing") {
        const deadline = BigInt(chain.dispute_deadline ?? "0");
        if (now < deadline && this.#claimable(current)) await this.#claim(current);
        else if (now > deadline) await this.#settle(current);
      } else if (chain.status === "disputed") {
        if (now > BigInt(chain.arbitration_deadline ?? "0")) await this.#settle(current);
      }
    } finally {
      this.#busy.delete(id);
    }
  }

  async #close(record: SessionRecord, chain: ChainSession): Promise<void> {
    const voucher =
      record.voucher !== null && BigInt(record.voucher.nonce) > BigInt(chain.nonce)
        ? record.voucher
        : null;
    const why = record.close_requested ? "the client asked" : "it expires soon";
    const closed = await this.#act(record, "close", () =>
      this.#o.escrow.closeSession(record.id, voucher),
    );
    if (closed === null) return;
    this.#learn(this.#o.store.get(record.id) ?? record, closed, "close_sent");
    this.#o.log.info(`session ${record.id}: closed on-chain (${why})`, {
      session: record.id,
      claimed: closed.claimed,
      nonce: closed.nonce,
      dispute_deadline: closed.dispute_deadline,
    });
  }

  async #claim(record: SessionRecord): Promise<void> {
    const voucher = record.voucher;
    if (voucher === null) return;
    const claimed = await this.#act(record, "claim", () =>
      this.#o.escrow.claimSession(record.id, voucher),
    );
    if (claimed === null) return;
    this.#learn(this.#o.store.get(record.id) ?? record, claimed, "claimed");
    this.#o.log.info(`session ${record.id}: claimed during the client's close`, {
      session: record.id,
      claimed: claimed.claimed,
      nonce: claimed.nonce,
    });
  }

  async #settle(record: SessionRecord): Promise<void> {
    const settled = await this.#act(record, "settle", () =>
      this.#o.escrow.settleSession(record.id),
    );
    if (settled === null) return;
    this.#learn(this.#o.store.get(record.id) ?? record, settled, "settled");
    this.#o.log.info(`session ${record.id}: settled`, {
      session: record.id,
      provider_payout: settled.provider_payout,
      fee: settled.fee,
      client_refund: settled.client_refund,
    });
  }

  /** A chain call; a refusal is logged and the chain read again at the next step. */
  async #act(
    record: SessionRecord,
    what: string,
    call: () => Promise<ChainSession>,
  ): Promise<ChainSession | null> {
    try {
      return await this.#chainCall(call);
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      this.#o.log.warn(`session ${record.id}: ${what} refused`, { session: record.id, error });
      const chain = await this.#chainCall(() => this.#o.escrow.session(record.id));
      if (chain !== null) this.#learn(this.#o.store.get(record.id) ?? record, chain);
      return null;
    }
  }

  /** Records what the chain says, never going back to an earlier status or nonce. */
  #learn(record: SessionRecord, chain: ChainSession, step?: string): SessionRecord {
    const changes: Partial<SessionRecord> = {};
    if (RANK[chain.status] >= RANK[record.status]) {
      changes.status = chain.status;
      changes.closed_by = chain.closed_by;
      changes.dispute_deadline = chain.dispute_deadline;
      changes.arbitration_deadline = chain.arbitration_deadline;
      changes.provider_payout = chain.provider_payout;
      changes.fee = chain.fee;
      changes.client_refund = chain.client_refund;
    }
    if (BigInt(chain.nonce) >= BigInt(record.claimed_nonce)) {
      changes.claimed = chain.claimed;
      changes.claimed_nonce = chain.nonce;
    }
    const changed = Object.entries(changes).some(
      ([key, value]) => record[key as keyof SessionRecord] !== value,
    );
    if (!changed && step === undefined) return record;
    return this.#o.store.update(record.id, changes, step);
  }

  // -- helpers -------------------------------------------------------------------------------

  /** Marks the session busy and returns its record (read from the chain the first time). */
  async #enter(id: string): Promise<SessionRecord> {
    if (!/^(0|[1-9][0-9]{0,19})$/.test(id) || BigInt(id) >= 2n ** 64n) {
      refuse("bad_request", "session id: expected a decimal u64");
    }
    if (this.#stopping) refuse("stopping", "the agent is stopping; try again later");
    if (this.#busy.has(id)) {
      refuse("busy", `session ${id} is handling another request; send them one at a time`);
    }
    this.#busy.add(id);
    try {
      const known = this.#o.store.get(id);
      if (known !== undefined) return known;
      const chain = await this.#chainCall(() => this.#o.escrow.session(id));
      if (chain === null || !this.#isOurs(chain)) {
        refuse("unknown_session", `no session ${id} on this provider's machines`);
      }
      if (chain.status !== "open") refuse("session_not_open", `session ${id} is ${chain.status}`);
      return this.#o.store.put(recordOf(chain));
    } catch (error) {
      this.#busy.delete(id);
      throw error;
    }
  }

  #requireServing(record: SessionRecord): void {
    if (record.status !== "open" || record.close_requested) {
      refuse(
        "session_not_open",
        `session ${record.id} is ${record.close_requested && record.status === "open" ? "closing" : record.status}`,
      );
    }
    if (this.#o.now() + msToNs(this.#o.requestMarginMs) >= BigInt(record.expires_at)) {
      refuse(
        "session_expiring",
        `session ${record.id} expires at ${record.expires_at}, within ${this.#o.requestMarginMs} ms: open a new session`,
      );
    }
  }

  #requireSigned(record: SessionRecord, voucher: SignedVoucher): void {
    const document = {
      escrow: this.#o.escrow.escrow,
      session_id: record.id,
      amount: voucher.amount,
      nonce: voucher.nonce,
    };
    if (!verifyVoucher(document, voucher.signature, record.client_key)) {
      refuse(
        "bad_signature",
        `the voucher is not signed by session ${record.id}'s client key ${record.client_key}`,
      );
    }
  }

  #isOurs(session: ChainSession): boolean {
    return (
      session.provider === this.#o.provider &&
      this.#o.keyring.find(session.machine_public_key, session.encryption_key) !== undefined
    );
  }

  #binding(record: SessionRecord, model: ModelEntry): SessionBinding {
    return {
      escrow: this.#o.escrow.escrow,
      client: record.client,
      machine_id: record.machine_id,
      model: model.weights_sha256,
      keyset_sha256: record.keyset_sha256,
      session_id: record.id,
    };
  }

  /** Retries while the RPC does not answer; a contract's refusal is thrown at once. */
  async #chainCall<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof ChainUnreachable) || attempt >= 4) throw error;
        await sleep(this.#o.retryMs * 2 ** attempt);
      }
    }
  }
}

function recordOf(chain: ChainSession): SessionRecord {
  return {
    id: chain.id,
    machine_id: chain.machine_id,
    client: chain.client,
    payer: chain.payer,
    client_key: chain.client_key,
    machine_public_key: chain.machine_public_key,
    encryption_key: chain.encryption_key,
    keyset_sha256: chain.keyset_sha256,
    price_per_unit: chain.price_per_unit,
    budget: chain.budget,
    asset: chain.asset,
    expires_at: chain.expires_at,
    // An agent that lost its store starts from what the escrow recorded.
    charged: chain.claimed,
    nonce: chain.nonce,
    voucher: null,
    requests: 0,
    last_receipt: null,
    close_requested: false,
    status: chain.status,
    closed_by: chain.closed_by,
    claimed: chain.claimed,
    claimed_nonce: chain.nonce,
    dispute_deadline: chain.dispute_deadline,
    arbitration_deadline: chain.arbitration_deadline,
    provider_payout: chain.provider_payout,
    fee: chain.fee,
    client_refund: chain.client_refund,
    times: { seen: Date.now() },
  };
}

function viewOf(record: SessionRecord): SessionView {
  return {
    session_id: record.id,
    machine_id: record.machine_id,
    client: record.client,
    status: record.status,
    close_requested: record.close_requested,
    asset: record.asset,
    price_per_unit: record.price_per_unit,
    budget: record.budget,
    charged: record.charged,
    budget_left: (BigInt(record.budget) - BigInt(record.charged)).toString(),
    nonce: record.nonce,
    voucher_amount: record.voucher?.amount ?? null,
    requests: record.requests,
    expires_at: record.expires_at,
    closed_by: record.closed_by,
    claimed: record.claimed,
    dispute_deadline: record.dispute_deadline,
    provider_payout: record.provider_payout,
    client_refund: record.client_refund,
    last_receipt: record.last_receipt,
  };
}
