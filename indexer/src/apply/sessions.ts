/**
 * Applies the escrow's session events (version 4) to the sessions table, every event kept in
 * session_history. Balances move as the contract moves them, as for jobs (escrow.ts):
 * - session_pending paid from a balance (source balance or allowance): the payer's balance loses
 *   the budget (and the allowance it was spent from is saved as the event carries it);
 * - session_rejected of a balance-funded request: the budget comes back to the payer's balance
 *   (attached NEAR is sent back and tokens returned by ft_transfer_call: no balance moves);
 * - session_opened, _claimed, _closing, _disputed move nothing (the budget stays escrowed);
 * - a session closing (session_settled or session_resolved, closed_at set for the first time):
 *   provider_payout to the provider, fee to the treasury of that moment, client_refund to the
 *   payer. The three must add up to the budget, or the index would credit what the escrow does not.
 */
import type { EscrowEventData, EscrowEventName, Session } from "../decode/escrow-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import { credit, creditClose, debit, saveAllowance } from "./escrow-books.ts";
import type { Row } from "./state.ts";

type SessionEventName = Extract<EscrowEventName, `session_${string}`>;
type Handler<N extends EscrowEventName> = (ctx: ApplyContext, data: EscrowEventData<N>) => void;

/** The session's row: every field of the escrow's Session record. */
function sessionRow(session: Session, height: number): Row {
  return {
    id: session.id,
    client: session.client,
    payer: session.payer,
    client_key: session.client_key,
    machine_id: session.machine_id,
    provider: session.provider,
    machine_public_key: session.machine_public_key,
    price_per_unit: session.price_per_unit,
    fee_bps: session.fee_bps,
    keyset_sha256: session.keyset_sha256,
    encryption_key: session.encryption_key,
    asset: session.asset,
    budget: session.budget,
    claimed: session.claimed,
    nonce: session.nonce,
    voucher_signature: session.voucher_signature,
    status: session.status,
    opened_at: session.opened_at,
    expires_at: session.expires_at,
    closed_by: session.closed_by,
    closing_at: session.closing_at,
    dispute_deadline: session.dispute_deadline,
    disputed_at: session.disputed_at,
    dispute_reason: session.dispute_reason,
    arbitration_deadline: session.arbitration_deadline,
    resolution_note: session.resolution_note,
    slash_requested: session.slash_requested,
    provider_payout: session.provider_payout,
    fee: session.fee,
    client_refund: session.client_refund,
    closed_at: session.closed_at,
    settled_by: session.settled_by,
    updated_height: height,
  };
}

function recordHistory(
  ctx: ApplyContext,
  sessionId: string,
  event: string,
  status: string,
  data: unknown,
): void {
  ctx.s.append("session_history", {
    receipt_id: ctx.receiptId,
    log_index: ctx.logIndex,
    session_id: sessionId,
    block_height: ctx.height,
    block_timestamp: ctx.timestampNs,
    event,
    status,
    data,
  });
}

function requireSession(ctx: ApplyContext, id: string): Row {
  const row = ctx.s.get("sessions", [id]);
  if (row === null) {
    throw new ConsistencyError(`the event names session ${id}, which the index does not have`);
  }
  return row;
}

/** What a closing session pays out must be its budget, exactly. */
function checkPayout(session: Session): void {
  const paid =
    BigInt(session.provider_payout ?? "0") +
    BigInt(session.fee ?? "0") +
    BigInt(session.client_refund ?? "0");
  if (paid !== BigInt(session.budget)) {
    throw new ConsistencyError(
      `session ${session.id} closes paying ${paid} (provider_payout + fee + client_refund) ` +
        `of a budget of ${session.budget}`,
    );
  }
}

/** Writes the session as the event carries it, records the event, credits a close. */
function sessionEvent(ctx: ApplyContext, session: Session, event: SessionEventName): void {
  const previous = ctx.s.get("sessions", [session.id]);
  if (event === "session_opened") {
    if (previous !== null) {
      throw new ConsistencyError(`session ${session.id} is opened again; the index has it`);
    }
  } else if (previous === null) {
    throw new ConsistencyError(
      `the event names session ${session.id}, which the index does not have`,
    );
  }
  const closing = session.closed_at !== null && (previous === null || previous.closed_at === null);
  ctx.s.put("sessions", [session.id], sessionRow(session, ctx.height));
  recordHistory(ctx, session.id, event, session.status, session);
  if (closing) {
    checkPayout(session);
    creditClose(ctx, session);
  }
}

function handler(event: SessionEventName) {
  return (ctx: ApplyContext, session: Session): void => sessionEvent(ctx, session, event);
}

export const sessionHandlers: { [N in SessionEventName]: Handler<N> } = {
  session_pending: (ctx, d) => {
    if (d.source === "balance" || d.source === "allowance") {
      debit(ctx, d.payer, d.asset, d.budget);
    }
    if (d.allowance !== null) saveAllowance(ctx, d.allowance);
  },
  session_opened: handler("session_opened"),
  session_rejected: (ctx, d) => {
    if (d.source === "balance" || d.source === "allowance") {
      credit(ctx, d.payer, d.asset, d.budget);
    }
    if (d.allowance !== null) saveAllowance(ctx, d.allowance);
  },
  session_claimed: handler("session_claimed"),
  session_closing: handler("session_closing"),
  session_disputed: handler("session_disputed"),
  session_settled: handler("session_settled"),
  session_resolved: handler("session_resolved"),
  session_slash_requested: (ctx, d) => {
    const row = requireSession(ctx, d.session_id);
    ctx.s.put("sessions", [d.session_id], {
      ...row,
      slash_requested: true,
      updated_height: ctx.height,
    });
    recordHistory(ctx, d.session_id, "session_slash_requested", row.status as string, d);
  },
};
