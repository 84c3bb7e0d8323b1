/**
 * A session as the client uses it (PROTOCOL.md, "Sessions"): each chat() seals the request to the
 * session, signs a voucher for what has been charged plus the request's quote with the session key,
 * streams the answer and checks the machine-signed receipt (signature, hashes, arithmetic) before
 * counting it; no transaction. close() sends a last voucher for exactly what was charged, asks the
 * agent to close with it, then settles at once as the counterparty (or disputes a claim above what
 * the receipts justify) and reports the refund.
 *
 * The state (key, charged, nonce) is saved before each voucher leaves and after each receipt is
 * verified (session-store.ts), so another process (the CLI) continues where this one stopped.
 */
import type { Session } from "@gpu-market/common/src/escrow-types.ts";
import {
  type ChatMessage,
  ProtocolError,
  parseChatRequest,
  parseSessionSecret,
  ResponseReader,
  type SealedRequest,
  type SessionReceipt,
  sealSessionRequest,
  sessionQuote,
  signVoucher,
  verifySessionReceipt,
} from "@gpu-market/protocol";
import type { MarketChain } from "./chain.ts";
import type { ProviderEndpoint, SessionAgentView } from "./endpoint.ts";
import { ClientError, clientError, messageOf } from "./errors.ts";
import { getSession, sessionAction } from "./escrow-sessions.ts";
import { findModel } from "./machines.ts";
import { parseReceiptLine, receiptProblem } from "./session-check.ts";
import type { SessionClose, SessionFiles, SessionState } from "./session-store.ts";

/** A request is not started when the session expires sooner than this (the agent refuses at 30 s). */
export const SESSION_REQUEST_MARGIN_NS = 45n * 1_000_000_000n;
/** How long close() waits for the agent's close to show on-chain. */
const CLOSE_WAIT_MS = 60_000;
const REASON_CHARS = 512;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SessionChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  seed?: number;
  /** The model's name or weights sha256; default the one the session was opened for. */
  model?: string;
  /** Refuse to send a request whose quote (its cost bound) is above this. */
  maxAmount?: string | bigint;
  /** Streams the answer's text as the frames arrive (the receipt is still checked). */
  onToken?: (text: string) => void;
}

export interface SessionChatResult {
  text: string;
  finishReason: string | null;
  sessionId: string;
  machineId: string;
  model: string;
  weightsSha256: string;
  usage: { promptTokens: number; completionTokens: number };
  /** What this request cost, and the session's totals after it (base units of the asset). */
  cost: string;
  charged: string;
  budget: string;
  budgetLeft: string;
  asset: string;
  /** The bound the voucher covered: price x (request JSON bytes + max_tokens). */
  quote: string;
  nonce: string;
  receipt: SessionReceipt;
  signature: string;
}

export interface SessionCloseResult {
  sessionId: string;
  /** settled: paid out; closing: the client closed it, it settles after the dispute window. */
  status: SessionClose["status"];
  asset: string;
  budget: string;
  /** What the receipts charged, and what the provider claimed on-chain. */
  charged: string;
  claimed: string;
  providerPayout: string | null;
  fee: string | null;
  /** The unspent budget credited to the payer's escrow balance (market.withdraw()). */
  refund: string | null;
  disputeDeadline: string | null;
  txHashes: Record<string, string>;
}

export interface SessionStatusReport {
  local: SessionState;
  chain: Session;
  budgetLeft: string;
}

export interface SessionContext {
  chain: MarketChain;
  escrow: string;
  files: SessionFiles;
  endpoint: ProviderEndpoint;
}

function amountOf(value: string | bigint, field: string): bigint {
  if (typeof value === "bigint") return value;
  if (!/^\d{1,39}$/.test(value))
    clientError("bad_input", `${field}: expected a u128 decimal string`);
  return BigInt(value);
}

export class MarketSession {
  readonly id: string;
  readonly #c: SessionContext;
  #state: SessionState;

  constructor(context: SessionContext, state: SessionState) {
    if (state.session_id === null) throw new Error("internal: a session without its id");
    this.id = state.session_id;
    this.#c = context;
    this.#state = state;
  }

  /** A copy of the saved state (without the secret). */
  get state(): Omit<SessionState, "client_secret"> {
    const { client_secret: _secret, ...rest } = structuredClone(this.#state);
    return rest;
  }

  get budgetLeft(): bigint {
    return BigInt(this.#state.budget) - BigInt(this.#state.charged);
  }

  #save(changes: Partial<SessionState>): void {
    this.#state = { ...this.#state, ...changes };
    this.#c.files.save(this.#state);
  }

  #secret(): Uint8Array {
    return parseSessionSecret(this.#state.client_secret);
  }

  /** Signs the next voucher (saving its nonce first: a nonce is never signed twice). */
  #voucher(amount: bigint): { amount: string; nonce: string; signature: string } {
    const nonce = (BigInt(this.#state.nonce) + 1n).toString();
    this.#save({ nonce });
    const fields = { amount: amount.toString(), nonce };
    return {
      ...fields,
      signature: signVoucher(
        { escrow: this.#c.escrow, session_id: this.id, ...fields },
        this.#secret(),
      ),
    };
  }

  /** The UTF-8 bytes of the request JSON the machine will decrypt: what the quote counts. */
  static requestBytes(request: Parameters<typeof parseChatRequest>[0]): number {
    return Buffer.byteLength(JSON.stringify(parseChatRequest(request)));
  }

  /** The quote of a request of `requestBytes` bytes asking for `maxTokens`. */
  quote(requestBytes: number, maxTokens: number): bigint {
    return sessionQuote(BigInt(this.#state.price_per_unit), requestBytes, maxTokens);
  }

  /** Whether the session can take a request of this quote now (open, not expiring, budget left). */
  usable(quote: bigint, nowNs: bigint): string | null {
    const state = this.#state;
    if (state.suspect !== null) return `a receipt did not check out (${state.suspect})`;
    if (state.status !== "open") return `it is ${state.status}`;
    if (
      state.expires_at !== null &&
      nowNs + SESSION_REQUEST_MARGIN_NS >= BigInt(state.expires_at)
    ) {
      return `it expires at ${state.expires_at}`;
    }
    if (BigInt(state.charged) + quote > BigInt(state.budget)) {
      return `its budget left ${this.budgetLeft} is short of the request's quote ${quote}`;
    }
    return null;
  }

  async chat(request: SessionChatRequest, nowNs?: bigint): Promise<SessionChatResult> {
    const state = this.#state;
    const model = findModel(state.models, request.model ?? state.models[0]?.name ?? "");
    if (model === undefined) {
      clientError(
        "bad_input",
        `model: session ${this.id}'s machine serves ${state.models.map((m) => m.name).join(", ")}`,
      );
    }
    const chat = {
      model: model.name,
      messages: request.messages,
      max_tokens: request.maxTokens,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
    };
    let sealed: SealedRequest;
    try {
      sealed = await sealSessionRequest(
        {
          escrow: this.#c.escrow,
          client: state.client,
          machine_id: state.machine_id,
          model: model.weights_sha256,
          keyset_sha256: state.keyset_sha256,
          session_id: this.id,
        },
        state.encryption_key,
        chat,
      );
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return clientError("bad_input", `the request cannot be encrypted: ${error.message}`);
    }
    const quote = this.quote(sealed.requestBytes, request.maxTokens);
    if (request.maxAmount !== undefined && quote > amountOf(request.maxAmount, "maxAmount")) {
      clientError(
        "bad_input",
        `the request's quote ${quote} (price x (request bytes + max_tokens)) is above maxAmount ${request.maxAmount}: raise maxAmount or lower maxTokens`,
      );
    }
    const now = nowNs ?? (await this.#c.chain.blockTimestampNs());
    const unusable = this.usable(quote, now);
    if (unusable !== null) {
      clientError(
        "session_unavailable",
        `session ${this.id} cannot take this request: ${unusable}`,
        {
          sessionId: this.id,
        },
      );
    }
    try {
      return await this.#send(sealed, model, request, quote);
    } catch (error) {
      if (
        error instanceof ClientError &&
        error.code === "session_refused" &&
        error.failureCode === "voucher_too_low"
      ) {
        // The agent counted a request whose receipt never arrived here: catch up from its signed
        // receipt, then try once more.
        await this.sync();
        return this.#send(sealed, model, request, quote);
      }
      throw error;
    }
  }

  async #send(
    sealed: SealedRequest,
    model: { name: string; weights_sha256: string },
    request: SessionChatRequest,
    quote: bigint,
  ): Promise<SessionChatResult> {
    const chargedBefore = BigInt(this.#state.charged);
    const amount = chargedBefore + quote;
    if (amount > BigInt(this.#state.budget)) {
      clientError(
        "session_unavailable",
        `session ${this.id}: budget left ${this.budgetLeft} is short of the quote ${quote}`,
        { sessionId: this.id },
      );
    }
    const voucher = this.#voucher(amount);
    const reader = new ResponseReader(sealed.responseKey, sealed.inputHash);
    const frames: string[] = [];
    let text = "";
    let finishReason: string | null = null;
    let last: unknown = null;
    let broken: string | null = null;
    await this.#c.endpoint.sessionRequest(
      this.id,
      {
        envelope: Buffer.from(sealed.envelope).toString("utf8"),
        model: model.weights_sha256,
        voucher,
      },
      (line) => {
        if (broken !== null || last !== null) {
          broken ??= "data after the receipt";
          return;
        }
        if (line.startsWith('{"ciphertext"')) {
          try {
            const frame = reader.open(line);
            frames.push(line);
            text += frame.content;
            finishReason = frame.finish_reason ?? finishReason;
            if (frame.content !== "") request.onToken?.(frame.content);
          } catch (error) {
            broken = messageOf(error);
          }
          return;
        }
        try {
          last = JSON.parse(line);
        } catch {
          broken = "a line of the answer is not JSON";
        }
      },
    );
    const failure = last as { error?: unknown; code?: unknown } | null;
    if (broken === null && typeof failure?.error === "string") {
      // The machine could not answer; it charged nothing.
      clientError(
        "session_refused",
        `session ${this.id}: the request failed at the machine (${String(failure.code)}): ${failure.error}; nothing was charged`,
        {
          sessionId: this.id,
          failureCode: typeof failure.code === "string" ? failure.code : undefined,
        },
      );
    }
    if (broken === null && last === null) {
      // Cut off before the receipt: not the machine's fault to prove. Nothing is counted here; if
      // the machine charged it, the next request catches up from its signed receipt (sync()).
      clientError(
        "endpoint_error",
        `session ${this.id}: the answer ended before its receipt (${frames.length} frames)`,
        { sessionId: this.id },
      );
    }
    const parsed = broken === null ? parseReceiptLine(last) : broken;
    const file = new TextEncoder().encode(frames.map((line) => `${line}\n`).join(""));
    const problem =
      typeof parsed === "string"
        ? parsed
        : !reader.complete
          ? `the answer ended after ${reader.frames} frames without its final one`
          : receiptProblem(parsed.receipt, parsed.signature, file, {
              escrow: this.#c.escrow,
              sessionId: this.id,
              requestId: sealed.requestId,
              inputHash: sealed.inputHash,
              weightsSha256: model.weights_sha256,
              modelName: model.name,
              maxTokens: request.maxTokens,
              machinePublicKey: this.#state.machine_public_key,
              pricePerUnit: BigInt(this.#state.price_per_unit),
              chargedBefore,
              voucherAmount: amount,
              nonce: voucher.nonce,
            });
    if (problem !== null || typeof parsed === "string") {
      this.#save({ suspect: problem ?? "no receipt" });
      return clientError(
        "bad_receipt",
        `session ${this.id}: ${problem}; no more vouchers are signed for this session (close it: the receipts so far are the evidence)`,
        { sessionId: this.id },
      );
    }
    const { receipt, signature } = parsed;
    this.#c.files.appendReceipt(this.id, receipt, signature);
    this.#save({ charged: receipt.charged, requests: this.#state.requests + 1 });
    return {
      text,
      finishReason,
      sessionId: this.id,
      machineId: this.#state.machine_id,
      model: receipt.model,
      weightsSha256: receipt.weights_sha256,
      usage: {
        promptTokens: Number(receipt.prompt_tokens),
        completionTokens: Number(receipt.completion_tokens),
      },
      cost: (BigInt(receipt.charged) - chargedBefore).toString(),
      charged: receipt.charged,
      budget: this.#state.budget,
      budgetLeft: this.budgetLeft.toString(),
      asset: this.#state.asset,
      quote: quote.toString(),
      nonce: voucher.nonce,
      receipt,
      signature,
    };
  }

  /**
   * Catches up with the agent after a receipt was lost on the way: takes its last signed receipt
   * when the machine key signed it, for a nonce this client signed, and charges no more than that
   * voucher allowed.
   */
  async sync(): Promise<SessionAgentView> {
    const view = await this.#c.endpoint.sessionView(this.id);
    const last = view.last_receipt;
    if (last === null) return view;
    const parsed = parseReceiptLine(last);
    if (typeof parsed === "string") {
      clientError("bad_receipt", `session ${this.id}: the agent's last receipt: ${parsed}`);
    }
    const { receipt, signature } = parsed;
    const valid =
      verifySessionReceipt(receipt, signature, this.#state.machine_public_key) &&
      receipt.escrow === this.#c.escrow &&
      receipt.session_id === this.id &&
      BigInt(receipt.nonce) <= BigInt(this.#state.nonce) &&
      BigInt(receipt.charged) <= BigInt(this.#state.budget);
    if (!valid) {
      clientError("bad_receipt", `session ${this.id}: the agent's last receipt does not check out`);
    }
    if (BigInt(receipt.charged) > BigInt(this.#state.charged)) {
      this.#c.files.appendReceipt(this.id, receipt, signature);
      this.#save({ charged: receipt.charged, requests: this.#state.requests + 1 });
    }
    return view;
  }

  /** The session on-chain and here. */
  async status(): Promise<SessionStatusReport> {
    const chain = await getSession(this.#c.chain, this.#c.escrow, this.id);
    return { local: this.state as SessionState, chain, budgetLeft: this.budgetLeft.toString() };
  }

  /**
   * Ends the session: a last voucher for exactly what the receipts charged, the agent closes with
   * it, then this client settles at once (or disputes a claim above what was charged). When the
   * agent cannot be reached and the session has expired, the client closes it itself; it then
   * settles after the dispute window (call close() again).
   */
  async close(onProgress: (message: string) => void = () => {}): Promise<SessionCloseResult> {
    const txHashes: Record<string, string> = { ...this.#state.close?.tx_hashes };
    let session = await getSession(this.#c.chain, this.#c.escrow, this.id);
    if (session.status === "open") {
      const charged = BigInt(this.#state.charged);
      onProgress(
        `asking the agent to close session ${this.id} for ${charged} (the receipts' total)`,
      );
      try {
        await this.#c.endpoint.sessionVoucher(this.id, this.#voucher(charged), true);
        session = await this.#waitClosed();
      } catch (error) {
        if (!(error instanceof ClientError) || error.code === "bad_input") throw error;
        const now = await this.#c.chain.blockTimestampNs();
        if (now <= BigInt(session.expires_at)) {
          clientError(
            "endpoint_error",
            `session ${this.id}: the agent did not close it (${error.message}); it closes it itself before ${session.expires_at}, or close it yourself after then`,
            { sessionId: this.id, cause: error },
          );
        }
        onProgress(`the agent did not close it (${error.message}); closing it as the client`);
        const closed = await sessionAction(this.#c.chain, this.#c.escrow, "close_session", this.id);
        txHashes.close = closed.txHash;
        session = closed.value;
      }
    }
    if (session.status === "closing") session = await this.#finish(session, txHashes, onProgress);
    const result: SessionCloseResult = {
      sessionId: this.id,
      status: session.status === "open" ? "closing" : session.status,
      asset: session.asset,
      budget: session.budget,
      charged: this.#state.charged,
      claimed: session.claimed,
      providerPayout: session.provider_payout,
      fee: session.fee,
      refund: session.client_refund,
      disputeDeadline: session.dispute_deadline,
      txHashes,
    };
    this.#save({
      status:
        result.status === "settled" || result.status === "resolved" ? "closed" : result.status,
      close: {
        status: result.status,
        claimed: result.claimed,
        provider_payout: result.providerPayout,
        fee: result.fee,
        refund: result.refund,
        dispute_deadline: result.disputeDeadline,
        tx_hashes: txHashes,
      },
    });
    return result;
  }

  /** A closing session: dispute a claim above the receipts, else settle when this side may. */
  async #finish(
    session: Session,
    txHashes: Record<string, string>,
    onProgress: (message: string) => void,
  ): Promise<Session> {
    const charged = BigInt(this.#state.charged);
    if (BigInt(session.claimed) > charged) {
      const reason = `the provider claimed ${session.claimed}; the machine-signed receipts charge ${charged}`;
      onProgress(`disputing session ${this.id}: ${reason}`);
      const disputed = await sessionAction(
        this.#c.chain,
        this.#c.escrow,
        "dispute_session",
        this.id,
        reason.slice(0, REASON_CHARS),
      );
      txHashes.dispute = disputed.txHash;
      return disputed.value;
    }
    const now = await this.#c.chain.blockTimestampNs();
    const early = session.closed_by === "provider";
    if (!early && now <= BigInt(session.dispute_deadline ?? "0")) {
      onProgress(
        `session ${this.id} is closing; it settles after the dispute window (${session.dispute_deadline})`,
      );
      return session;
    }
    onProgress(
      `session ${this.id}: the provider claimed ${session.claimed}; settling ${early ? "now, as the client" : "after the dispute window"}`,
    );
    const settled = await sessionAction(this.#c.chain, this.#c.escrow, "settle_session", this.id);
    txHashes.settle = settled.txHash;
    return settled.value;
  }

  /** Waits until the agent's close_session shows (it answers once the call is final). */
  async #waitClosed(): Promise<Session> {
    const until = Date.now() + CLOSE_WAIT_MS;
    for (;;) {
      const session = await getSession(this.#c.chain, this.#c.escrow, this.id);
      if (session.status !== "open") return session;
      if (Date.now() > until) {
        clientError("endpoint_error", `session ${this.id}: the agent's close did not land`, {
          sessionId: this.id,
        });
      }
      await sleep(500);
    }
  }
}
