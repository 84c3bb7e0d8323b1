/**
 * The escrow calls of a session as the client makes them: open_session in each way it can be paid
 * (funding.ts), the session view, close, settle and dispute.
 */
import type { Session } from "@gpu-market/common/src/escrow-types.ts";
import type { CallOutcome, MarketChain } from "./chain.ts";
import { TGAS } from "./chain.ts";
import { clientError } from "./errors.ts";
import { type Funded, madeRecord, payInto } from "./funding.ts";
import type { Payment } from "./types.ts";

const SESSION: Funded = {
  what: "session",
  method: "open_session",
  amountField: "budget",
  made: "session_opened",
  refused: "session_rejected",
  // The registry's eligibility call and the callback, as create_job.
  gas: 200n * TGAS,
};

export interface SessionFields {
  machine_id: string;
  client_key: string;
  keyset_sha256: string;
  max_price_per_unit: string;
  expires_within_ns: string;
}

export interface OpenedSession {
  session: Session;
  txHash: string;
}

export async function openSessionTx(
  chain: MarketChain,
  escrow: string,
  fields: SessionFields,
  budget: bigint,
  payment: Payment,
): Promise<OpenedSession> {
  const outcome = await payInto(chain, escrow, SESSION, fields, budget, payment);
  return { session: madeRecord<Session>(outcome, SESSION), txHash: outcome.txHash };
}

export async function getSession(
  chain: MarketChain,
  escrow: string,
  sessionId: string,
): Promise<Session> {
  const session = await chain.view<Session | null>(escrow, "session", { session_id: sessionId });
  if (session === null) {
    clientError("rpc_error", `session ${sessionId} does not exist on ${escrow}`, { sessionId });
  }
  return session;
}

export async function sessionAction(
  chain: MarketChain,
  escrow: string,
  method: "close_session" | "settle_session" | "dispute_session",
  sessionId: string,
  reason?: string,
): Promise<CallOutcome<Session>> {
  const args: Record<string, unknown> = { session_id: sessionId };
  if (reason !== undefined) args.reason = reason;
  return chain.call<Session>(escrow, method, args);
}
