/**
 * A session's life after it opens: the provider claims vouchers (session-vouchers.ts) while it is
 * open and while it closes; it closes by the provider at any time or by the client once it has
 * expired; during the dispute window the provider may still claim and the client dispute; then it
 * settles with the last claimed voucher, or the arbiter splits the budget. Every close credits
 * balances; nothing is sent.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Session, SessionSettledBy } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { parseU128 } from "../../common/src/u128.ts";
import { requireText } from "../../common/src/validate.ts";
import { creditFromEscrow } from "./balances.ts";
import { exposureRemoved } from "./exposure.ts";
import { splitPayment } from "./money.ts";
import { requireSessionStatus, saveSession } from "./session-store.ts";
import { claimVoucher, type Voucher } from "./session-vouchers.ts";
import { type EscrowState, LIMITS } from "./state.ts";

function caller(): string {
  return near.predecessorAccountId();
}

function isClientSide(session: Session, account: string): boolean {
  return account === session.client || account === session.payer;
}

function requireProvider(session: Session): void {
  if (caller() !== session.provider) {
    fail(`only session ${session.id}'s provider may do this; called by ${caller()}`);
  }
}

function requireClientSide(session: Session): void {
  if (!isClientSide(session, caller())) {
    fail(`only session ${session.id}'s client or payer may do this; called by ${caller()}`);
  }
}

function requireArbiter(state: EscrowState): string {
  if (caller() !== state.arbiter) {
    fail(`only the arbiter (${state.arbiter}) may do this; called by ${caller()}`);
  }
  return caller();
}

/** The provider records a voucher: while open, or while closing until the dispute deadline. */
export function claimSession(session: Session, voucher: Voucher): Session {
  requireProvider(session);
  requireSessionStatus(session, ["open", "closing"], "claim");
  if (
    session.status === "closing" &&
    near.blockTimestamp() > BigInt(session.dispute_deadline ?? "0")
  ) {
    fail(`session ${session.id}: the dispute window closed at ${session.dispute_deadline}`);
  }
  claimVoucher(session, voucher);
  saveSession(session);
  emitEvent({ event: "session_claimed", data: session });
  return session;
}

/**
 * Starts the close: the provider at any time (claiming `voucher` first, if given), the client or
 * payer once the session has expired. The dispute window opens.
 */
export function closeSession(
  state: EscrowState,
  session: Session,
  voucher: Voucher | null,
): Session {
  requireSessionStatus(session, ["open"], "close");
  const account = caller();
  const now = near.blockTimestamp();
  if (account === session.provider) {
    if (voucher !== null) {
      claimVoucher(session, voucher);
    }
    session.closed_by = "provider";
  } else if (isClientSide(session, account)) {
    if (voucher !== null) {
      fail("voucher: only the provider closes with a voucher");
    }
    if (now <= BigInt(session.expires_at)) {
      fail(
        `session ${session.id} is open until ${session.expires_at}: before that only the ` +
          "provider closes it (ask its agent to)",
      );
    }
    session.closed_by = "client";
  } else {
    fail(
      `only session ${session.id}'s provider, client or payer may close it; called by ${account}`,
    );
  }
  session.status = "closing";
  session.closing_at = now.toString();
  session.dispute_deadline = (now + BigInt(state.params.dispute_window_ns)).toString();
  saveSession(session);
  emitEvent({ event: "session_closing", data: session });
  return session;
}

/** Credits the split of the budget when `paid` of it goes to the provider side. */
function closeBooks(state: EscrowState, session: Session, paid: bigint): void {
  const split = splitPayment(BigInt(session.budget), paid, session.fee_bps);
  creditFromEscrow(session.provider, session.asset, split.provider);
  creditFromEscrow(state.treasury, session.asset, split.fee);
  creditFromEscrow(session.payer, session.asset, split.refund);
  session.provider_payout = split.provider.toString();
  session.fee = split.fee.toString();
  session.client_refund = split.refund.toString();
  session.closed_at = near.blockTimestamp().toString();
  exposureRemoved(session.provider);
}

/**
 * Pays the last claimed voucher: a closing session after its dispute window (anyone), or before it
 * by the side that did not close (accepting early); a disputed one after the arbitration window.
 */
export function settleSession(state: EscrowState, session: Session): Session {
  requireSessionStatus(session, ["closing", "disputed"], "settle");
  const now = near.blockTimestamp();
  let by: SessionSettledBy;
  if (session.status === "closing") {
    const account = caller();
    const counterparty =
      session.closed_by === "provider"
        ? isClientSide(session, account)
        : account === session.provider;
    if (now > BigInt(session.dispute_deadline ?? "0")) {
      by = "dispute_window";
    } else if (counterparty) {
      by = "counterparty";
    } else {
      fail(
        `session ${session.id}: the dispute window is open until ${session.dispute_deadline}; ` +
          `before that only the ${session.closed_by === "provider" ? "client or payer" : "provider"} settles it`,
      );
    }
  } else {
    if (now <= BigInt(session.arbitration_deadline ?? "0")) {
      fail(
        `session ${session.id}: the arbiter has until ${session.arbitration_deadline} to resolve the dispute`,
      );
    }
    by = "arbitration_timeout";
  }
  closeBooks(state, session, BigInt(session.claimed));
  session.status = "settled";
  session.settled_by = by;
  saveSession(session);
  emitEvent({ event: "session_settled", data: session });
  return session;
}

export function disputeSession(
  state: EscrowState,
  session: Session,
  args: Record<string, unknown>,
): Session {
  const reason = requireText(args.reason, "reason", 1, LIMITS.textChars);
  requireClientSide(session);
  requireSessionStatus(session, ["closing"], "dispute");
  const now = near.blockTimestamp();
  if (now > BigInt(session.dispute_deadline ?? "0")) {
    fail(`session ${session.id}: the dispute window closed at ${session.dispute_deadline}`);
  }
  session.status = "disputed";
  session.disputed_at = now.toString();
  session.dispute_reason = reason;
  session.arbitration_deadline = (now + BigInt(state.params.arbitration_window_ns)).toString();
  saveSession(session);
  emitEvent({ event: "session_disputed", data: session });
  return session;
}

/** The arbiter gives `provider_amount` of the budget to the provider side until its deadline. */
export function resolveSession(
  state: EscrowState,
  session: Session,
  args: Record<string, unknown>,
): Session {
  requireArbiter(state);
  const providerAmount = parseU128(args.provider_amount, "provider_amount");
  const note = requireText(args.note ?? "", "note", 0, LIMITS.textChars);
  requireSessionStatus(session, ["disputed"], "resolve");
  if (near.blockTimestamp() > BigInt(session.arbitration_deadline ?? "0")) {
    fail(
      `session ${session.id}: the arbitration window closed at ${session.arbitration_deadline}; ` +
        "settle_session closes it with the last claimed voucher",
    );
  }
  if (providerAmount > BigInt(session.budget)) {
    fail(
      `provider_amount: ${providerAmount} is more than session ${session.id}'s budget ${session.budget}`,
    );
  }
  closeBooks(state, session, providerAmount);
  session.status = "resolved";
  session.resolution_note = note;
  saveSession(session);
  emitEvent({ event: "session_resolved", data: session });
  return session;
}

export function requestSessionSlash(
  state: EscrowState,
  session: Session,
  args: Record<string, unknown>,
): Session {
  const arbiter = requireArbiter(state);
  const reason = requireText(args.reason, "reason", 1, LIMITS.textChars);
  requireSessionStatus(session, ["disputed", "resolved"], "request_session_slash");
  if (session.slash_requested) {
    fail(`session ${session.id}: a slash was already requested`);
  }
  session.slash_requested = true;
  saveSession(session);
  emitEvent({
    event: "session_slash_requested",
    data: {
      session_id: session.id,
      provider: session.provider,
      machine_id: session.machine_id,
      arbiter,
      reason,
    },
  });
  return session;
}
