/**
 * Sessions on the escrow as the agent reads them: the fields of a Session (from the `session`
 * view, a call's return value or an event) that the agent decides from, checked before use, and
 * the escrow calls a provider makes on a session (claim, close, settle).
 */
import type { Asset, Session, SessionStatus } from "@gpu-market/common/src/escrow-types.ts";
import type { SignedVoucher } from "@gpu-market/protocol";

export type ChainSession = Pick<
  Session,
  | "id"
  | "client"
  | "payer"
  | "client_key"
  | "machine_id"
  | "provider"
  | "machine_public_key"
  | "price_per_unit"
  | "keyset_sha256"
  | "encryption_key"
  | "asset"
  | "budget"
  | "claimed"
  | "nonce"
  | "status"
  | "expires_at"
  | "closed_by"
  | "dispute_deadline"
  | "arbitration_deadline"
  | "provider_payout"
  | "fee"
  | "client_refund"
>;

export const SESSION_STATUSES: readonly SessionStatus[] = [
  "open",
  "closing",
  "disputed",
  "settled",
  "resolved",
];
const STRINGS = [
  "id",
  "client",
  "payer",
  "client_key",
  "machine_id",
  "provider",
  "machine_public_key",
  "price_per_unit",
  "keyset_sha256",
  "encryption_key",
  "budget",
  "claimed",
  "nonce",
  "expires_at",
] as const;
const NULLABLE = [
  "dispute_deadline",
  "arbitration_deadline",
  "provider_payout",
  "fee",
  "client_refund",
] as const;
const DECIMAL = /^(0|[1-9][0-9]{0,38})$/;
const DECIMALS = ["id", "machine_id", "price_per_unit", "budget", "claimed", "nonce", "expires_at"];

/** The fields of an escrow Session the agent reads, or an error naming the first bad one. */
export function parseChainSession(value: unknown, where: string): ChainSession {
  if (typeof value !== "object" || value === null)
    throw new Error(`${where}: not a session object`);
  const record = value as Record<string, unknown>;
  for (const key of STRINGS) {
    if (typeof record[key] !== "string") throw new Error(`${where}.${key}: expected a string`);
  }
  for (const key of DECIMALS) {
    if (!DECIMAL.test(record[key] as string)) {
      throw new Error(`${where}.${key}: expected a decimal number`);
    }
  }
  for (const key of NULLABLE) {
    const field = record[key];
    if (field !== null && field !== undefined && typeof field !== "string") {
      throw new Error(`${where}.${key}: expected a string or null`);
    }
  }
  if (!SESSION_STATUSES.includes(record.status as SessionStatus)) {
    throw new Error(`${where}.status: "${String(record.status)}" is not a session status`);
  }
  const closedBy = record.closed_by ?? null;
  if (closedBy !== null && closedBy !== "provider" && closedBy !== "client") {
    throw new Error(`${where}.closed_by: expected "provider", "client" or null`);
  }
  const asset = record.asset as Asset | undefined;
  if (typeof asset !== "string" || asset === "") {
    throw new Error(`${where}.asset: expected "NEAR" or a token account`);
  }
  const session = {} as Record<string, unknown>;
  for (const key of STRINGS) session[key] = record[key];
  for (const key of NULLABLE) session[key] = record[key] ?? null;
  session.status = record.status;
  session.closed_by = closedBy;
  session.asset = asset;
  return session as unknown as ChainSession;
}

/** What the agent needs from the escrow for sessions; the unit tests give a double of it. */
export interface SessionEscrowPort {
  readonly escrow: string;
  session(id: string): Promise<ChainSession | null>;
  /** Records a voucher (provider; open, or closing until the dispute deadline). */
  claimSession(id: string, voucher: SignedVoucher): Promise<ChainSession>;
  /** Closes as the provider, claiming `voucher` first when given. */
  closeSession(id: string, voucher: SignedVoucher | null): Promise<ChainSession>;
  /** Pays the last claimed voucher out (after the dispute window, or early as the counterparty). */
  settleSession(id: string): Promise<ChainSession>;
}
