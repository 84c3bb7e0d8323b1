/**
 * Opening a session: the budget is locked first (attached NEAR, a prepaid balance, a payer's
 * allowance, or tokens received through ft_on_transfer), then the registry is asked whether the
 * machine is eligible, as for a job; the callback opens the session with snapshots of the
 * machine's provider, price, signing key and keyset, or gives every unit back.
 */
import { near, type PromiseIndex } from "near-sdk-js";
import { parseEd25519Key } from "../../common/src/ed25519-key.ts";
import { fail } from "../../common/src/errors.ts";
import type {
  Allowance,
  FundingSource,
  Session,
  SessionRequest,
} from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import type { Eligibility } from "../../common/src/registry-types.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import { requireHex } from "../../common/src/validate.ts";
import { escrowIncoming } from "./balances.ts";
import { askEligibility, readEligibility, refundRefused } from "./eligibility.ts";
import { exposureAdded } from "./exposure.ts";
import { insertSession } from "./session-store.ts";
import { type EscrowState, STORAGE_BYTES } from "./state.ts";
import { canCharge, chargeStorage } from "./storage.ts";

/** The fields every session request carries, whatever pays for it. */
export const SESSION_FIELDS = [
  "machine_id",
  "client_key",
  "keyset_sha256",
  "max_price_per_unit",
  "expires_within_ns",
] as const;

/** Validates the session fields of `args` into a request paid by `payer` with `budget` of `asset`. */
export function parseSessionRequest(
  state: EscrowState,
  args: Record<string, unknown>,
  funding: { client: string; payer: string; asset: string; budget: bigint; source: FundingSource },
): SessionRequest {
  if (funding.budget === 0n) {
    fail("budget: must be greater than 0");
  }
  if (args.max_price_per_unit === undefined || args.max_price_per_unit === null) {
    fail(
      "max_price_per_unit: required: the highest price per unit you accept (the machine's " +
        "price_per_unit from the registry, or more)",
    );
  }
  const expires = parseU64(args.expires_within_ns, "expires_within_ns");
  const { min_session_ns: min, max_session_ns: max } = state.params;
  if (expires < BigInt(min) || expires > BigInt(max)) {
    fail(`expires_within_ns: must be between ${min} and ${max} ns, got ${expires}`);
  }
  return {
    client: funding.client,
    payer: funding.payer,
    machine_id: parseU64(args.machine_id, "machine_id").toString(),
    client_key: parseEd25519Key(args.client_key, "client_key").text,
    asset: funding.asset,
    budget: funding.budget.toString(),
    keyset_sha256: requireHex(args.keyset_sha256, "keyset_sha256", 32, 32),
    max_price_per_unit: parseU128(args.max_price_per_unit, "max_price_per_unit").toString(),
    expires_within_ns: expires.toString(),
    source: funding.source,
  };
}

/** Fails unless the payer can pay a session's storage fee (charged when it opens). */
export function requireStorageForSession(payer: string): void {
  if (!canCharge(payer, STORAGE_BYTES.session)) {
    fail(
      `${payer} needs an available storage balance of at least ` +
        `${STORAGE_BYTES.session * near.storageByteCost()} for a session: call storage_deposit`,
    );
  }
}

/** Asks the registry about the machine; on_session_eligibility opens the session or refunds. */
export function askRegistryForSession(
  state: EscrowState,
  request: SessionRequest,
  allowancePeriod: string | null,
): PromiseIndex {
  return askEligibility(state, request.machine_id, "on_session_eligibility", "opening a session", {
    request,
    allowance_period: allowancePeriod,
  });
}

/** Emits session_pending for a budget locked in this call and hands the registry's answer back. */
export function startSession(
  state: EscrowState,
  request: SessionRequest,
  allowance: Allowance | null,
): void {
  requireStorageForSession(request.payer);
  const promise = askRegistryForSession(state, request, allowance?.period_start ?? null);
  emitEvent({ event: "session_pending", data: { ...request, allowance } });
  near.promiseReturn(promise);
}

function refund(request: SessionRequest, reason: string, allowancePeriod: string | null): void {
  const allowance = refundRefused(request, BigInt(request.budget), allowancePeriod);
  emitEvent({
    event: "session_rejected",
    data: { ...request, reason, refunded_to: request.payer, allowance },
  });
}

function openSession(state: EscrowState, request: SessionRequest, answer: Eligibility): Session {
  chargeStorage(request.payer, STORAGE_BYTES.session, "session");
  if (request.source === "token") {
    escrowIncoming(request.asset, BigInt(request.budget));
  }
  const now = near.blockTimestamp();
  const session: Session = {
    id: state.next_session_id,
    client: request.client,
    payer: request.payer,
    client_key: request.client_key,
    machine_id: request.machine_id,
    provider: answer.provider ?? "",
    machine_public_key: answer.machine_public_key ?? "",
    price_per_unit: answer.price_per_unit ?? "0",
    fee_bps: state.params.fee_bps,
    keyset_sha256: request.keyset_sha256,
    encryption_key: answer.encryption_key ?? "",
    asset: request.asset,
    budget: request.budget,
    claimed: "0",
    nonce: "0",
    voucher_signature: null,
    status: "open",
    opened_at: now.toString(),
    expires_at: (now + BigInt(request.expires_within_ns)).toString(),
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
  };
  state.next_session_id = (BigInt(state.next_session_id) + 1n).toString();
  insertSession(session);
  exposureAdded(session.provider);
  emitEvent({ event: "session_opened", data: session });
  return session;
}

export type SessionOutcome = Session | { rejected: true; reason: string };

/**
 * The registry's answer. Never fails on a bad answer: it refunds instead, so funds cannot be stuck.
 * For a token-funded request it returns the unused amount (all or nothing) for ft_resolve_transfer.
 */
export function onSessionEligibility(
  state: EscrowState,
  request: SessionRequest,
  allowancePeriod: string | null,
): SessionOutcome | string {
  const { answer, reason } = readEligibility({
    machine_id: request.machine_id,
    payer: request.payer,
    keyset_sha256: request.keyset_sha256,
    max_price_per_unit: request.max_price_per_unit,
    model_hash: null,
    storage_bytes: STORAGE_BYTES.session,
    what: "session",
  });
  if (answer === null) {
    refund(request, reason, allowancePeriod);
    return request.source === "token" ? request.budget : { rejected: true, reason };
  }
  const session = openSession(state, request, answer);
  return request.source === "token" ? "0" : session;
}
