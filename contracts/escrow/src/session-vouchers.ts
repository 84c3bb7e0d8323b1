/**
 * Vouchers: the client's ed25519 signature (by the key registered in the session) over the
 * canonical {escrow, session_id, amount, nonce}, amount cumulative. The provider claims the voucher
 * of its choice; the escrow records it only with a nonce above the last one recorded (so none is
 * replayed) and an amount within the budget. Nothing is paid until the session settles.
 */
import { near } from "near-sdk-js";
import { ed25519Verify } from "../../../toolchain/contract-lib/ed25519.ts";
import { parseEd25519Key } from "../../common/src/ed25519-key.ts";
import { fromHex } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import type { Session } from "../../common/src/escrow-types.ts";
import { voucherBytes } from "../../common/src/inference-messages.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import { requireHex, requireObject, requireOnlyKeys } from "../../common/src/validate.ts";

export interface Voucher {
  amount: string;
  nonce: string;
  signature: string;
}

export const VOUCHER_FIELDS = ["amount", "nonce", "signature"] as const;

/** The voucher fields of `args` (claim_session's own arguments, or close_session's `voucher`). */
export function parseVoucher(args: Record<string, unknown>, prefix: string): Voucher {
  return {
    amount: parseU128(args.amount, `${prefix}amount`).toString(),
    nonce: parseU64(args.nonce, `${prefix}nonce`).toString(),
    signature: requireHex(args.signature, `${prefix}signature`, 64, 64),
  };
}

/** close_session's optional `voucher` object. */
export function parseVoucherObject(value: unknown): Voucher {
  const voucher = requireObject(value, "voucher");
  requireOnlyKeys(voucher, "voucher", VOUCHER_FIELDS);
  return parseVoucher(voucher, "voucher.");
}

/** Records `voucher` as the session's claim after checking nonce, budget and signature. */
export function claimVoucher(session: Session, voucher: Voucher): void {
  if (BigInt(voucher.nonce) <= BigInt(session.nonce)) {
    fail(
      `nonce: ${voucher.nonce} is not above ${session.nonce}, the nonce of the voucher already ` +
        `claimed in session ${session.id}: a voucher counts once`,
    );
  }
  if (BigInt(voucher.amount) > BigInt(session.budget)) {
    fail(`amount: ${voucher.amount} is over session ${session.id}'s budget ${session.budget}`);
  }
  const key = parseEd25519Key(session.client_key, "client_key").bytes;
  const document = voucherBytes({
    escrow: near.currentAccountId(),
    session_id: session.id,
    amount: voucher.amount,
    nonce: voucher.nonce,
  });
  if (!ed25519Verify(fromHex(voucher.signature), near.sha256(document), key)) {
    fail(
      `signature: not a signature by session ${session.id}'s client key ${session.client_key} ` +
        `over the voucher (amount ${voucher.amount}, nonce ${voucher.nonce})`,
    );
  }
  session.claimed = voucher.amount;
  session.nonce = voucher.nonce;
  session.voucher_signature = voucher.signature;
}
