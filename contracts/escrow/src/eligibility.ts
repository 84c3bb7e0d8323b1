/**
 * The registry's is_eligible, asked before a job is created or a session opened, and its answer read
 * in the callback: why it does not allow one (machine not eligible, price above what the client
 * accepts, keyset changed, model not served, payer's storage gone), or the answer when it does;
 * and the funds given back when it does not.
 */
import { near, type PromiseIndex } from "near-sdk-js";
import { decodeBase58 } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import { type Allowance, type FundingSource, NEAR_ASSET } from "../../common/src/escrow-types.ts";
import { parseEncryptionKey } from "../../common/src/inference-messages.ts";
import type { Eligibility } from "../../common/src/registry-types.ts";
import { typeName } from "../../common/src/validate.ts";
import { type AllowanceUse, returnToAllowance } from "./allowance-store.ts";
import { creditFromEscrow, escrowOutgoing } from "./balances.ts";
import { type EscrowState, GAS, TGAS } from "./state.ts";
import { canCharge } from "./storage.ts";

/** Gas the asking call itself still needs after scheduling the promises. */
const GAS_MARGIN = 10n * TGAS;

/**
 * Asks the registry about `machineId`, then calls `callback` on this contract with `args` (the
 * request and where its funds came from); returns the callback's promise.
 */
export function askEligibility(
  state: EscrowState,
  machineId: string,
  callback: string,
  doing: string,
  args: Record<string, unknown>,
): PromiseIndex {
  const needed = GAS.eligibility + GAS.eligibilityCallback + GAS_MARGIN;
  const left = near.prepaidGas() - near.usedGas();
  if (left < needed) {
    fail(`not enough gas: ${left} left, ${doing} needs at least ${needed} more`);
  }
  const eligibility = near.promiseCreate(
    state.registry,
    "is_eligible",
    JSON.stringify({ machine_id: machineId }),
    0n,
    GAS.eligibility,
  );
  return near.promiseThen(
    eligibility,
    near.currentAccountId(),
    callback,
    JSON.stringify(args),
    0n,
    GAS.eligibilityCallback,
  );
}

/** What the client asked for, as far as the registry's answer is concerned. */
export interface EligibilityAsk {
  machine_id: string;
  payer: string;
  keyset_sha256: string;
  max_price_per_unit: string | null;
  /** A job's model; null for a session (any model of the keyset). */
  model_hash: string | null;
  /** What the payer's storage balance must still cover. */
  storage_bytes: bigint;
  /** "job" or "session", for messages. */
  what: string;
}

/**
 * Reads the registry's answer in the callback. Never throws: a failed call or a bad answer is a
 * reason to refuse, so funds cannot be stuck.
 */
export function readEligibility(
  ask: EligibilityAsk,
): { answer: Eligibility; reason: null } | { answer: null; reason: string } {
  try {
    const answer: unknown = JSON.parse(near.promiseResult(0));
    const reason = eligibilityRejection(ask, answer);
    if (reason !== null) return { answer: null, reason };
    return { answer: answer as Eligibility, reason: null };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { answer: null, reason: `the registry call failed: ${message}` };
  }
}

/** A job's or a session's funding, as far as giving it back is concerned. */
export interface Funding extends AllowanceUse {
  source: FundingSource;
}

/**
 * Gives back `amount` the registry's refusal leaves unspent (for tokens, the unused amount returned
 * to ft_resolve_transfer does it), and what it took from an allowance to that allowance's period.
 */
export function refundRefused(
  funding: Funding,
  amount: bigint,
  allowancePeriod: string | null,
): Allowance | null {
  if (funding.source === "attached") {
    escrowOutgoing(NEAR_ASSET, amount);
    near.promiseBatchActionTransfer(near.promiseBatchCreate(funding.payer), amount);
  } else if (funding.source !== "token") {
    creditFromEscrow(funding.payer, funding.asset, amount);
  }
  return funding.source === "allowance" && allowancePeriod !== null
    ? returnToAllowance(funding, amount, allowancePeriod)
    : null;
}

function eligibilityRejection(ask: EligibilityAsk, answer: unknown): string | null {
  if (typeof answer !== "object" || answer === null) {
    return `the registry answered ${typeName(answer)} instead of an eligibility`;
  }
  const e = answer as Partial<Eligibility>;
  if (e.eligible !== true) {
    return `machine ${ask.machine_id} is not eligible: ${e.reason ?? "no reason given"}`;
  }
  if (e.machine_id !== ask.machine_id) {
    return `the registry answered for machine ${String(e.machine_id)}`;
  }
  if (typeof e.provider !== "string" || typeof e.price_per_unit !== "string") {
    return "the registry's answer lacks the provider or the price";
  }
  if (typeof e.machine_public_key !== "string" || !e.machine_public_key.startsWith("ed25519:")) {
    return "the registry's answer lacks an ed25519 machine key";
  }
  if (!/^(0|[1-9][0-9]{0,38})$/.test(e.price_per_unit)) {
    return `the registry's price ${e.price_per_unit} is not a u128`;
  }
  if (
    ask.max_price_per_unit !== null &&
    BigInt(e.price_per_unit) > BigInt(ask.max_price_per_unit)
  ) {
    return `price per unit ${e.price_per_unit} is above max_price_per_unit ${ask.max_price_per_unit}`;
  }
  if (
    decodeBase58(e.machine_public_key.slice("ed25519:".length), "machine_public_key").length !== 32
  ) {
    return "the machine key is not 32 bytes";
  }
  return keysetRejection(ask, e) ?? storageRejection(ask);
}

/** Why the machine's attested keyset does not fit the request (encrypted to it, for its model). */
function keysetRejection(ask: EligibilityAsk, e: Partial<Eligibility>): string | null {
  const machine = `machine ${ask.machine_id}`;
  if (typeof e.keyset_sha256 !== "string") {
    return `${machine} has no attested keyset (encryption key and models): it cannot take ${ask.what}s`;
  }
  if (e.keyset_sha256 !== ask.keyset_sha256) {
    const asked =
      ask.what === "job"
        ? `the request was encrypted to ${ask.keyset_sha256}; encrypt again`
        : `the session was asked for keyset ${ask.keyset_sha256}; check the new keyset and open again`;
    return `the machine's keyset changed: ${machine} now attests keyset ${e.keyset_sha256}, ${asked}`;
  }
  try {
    parseEncryptionKey(e.encryption_key, "encryption_key");
  } catch (error) {
    return `the registry's answer has no valid encryption key: ${(error as Error).message}`;
  }
  const models = Array.isArray(e.models) ? e.models : [];
  if (ask.model_hash !== null && !models.some((m) => m?.weights_sha256 === ask.model_hash)) {
    return `${machine} does not serve model ${ask.model_hash} (no attested model has these weights)`;
  }
  return null;
}

function storageRejection(ask: EligibilityAsk): string | null {
  if (!canCharge(ask.payer, ask.storage_bytes)) {
    return `${ask.payer} no longer has the storage balance a ${ask.what} needs`;
  }
  return null;
}
