/** JSON views of state objects as nearcore serializes them (RPC, genesis records, state changes). */
import { base58 } from "@scure/base";
import { isValidAccountId } from "./account-id.ts";
import { publicKeyToString } from "./keys.ts";
import type { AccessKey, Account, PublicKey } from "./types.ts";

export const ZERO_HASH = new Uint8Array(32);

const hashStrings = new WeakMap<Uint8Array, string>();

/** Base58 of a hash; memoized per array since the same ids are shown many times. */
export function hashToString(hash: Uint8Array): string {
  let text = hashStrings.get(hash);
  if (text === undefined) {
    text = base58.encode(hash);
    hashStrings.set(hash, text);
  }
  return text;
}

export function parseHash(text: unknown, what: string): Uint8Array {
  if (typeof text !== "string") throw new Error(`${what} must be a base58 string`);
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(text);
  } catch {
    throw new Error(`${what} ${JSON.stringify(text)} is not valid base58`);
  }
  if (bytes.length !== 32)
    throw new Error(`${what} ${JSON.stringify(text)} must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

export function parseU128(value: unknown, what: string): bigint {
  if (typeof value === "string" && /^\d{1,39}$/.test(value)) {
    const v = BigInt(value);
    if (v < 2n ** 128n) return v;
  }
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new Error(`${what} must be a u128 decimal string, got ${JSON.stringify(value)}`);
}

export function parseU64(value: unknown, what: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^\d{1,20}$/.test(value) && BigInt(value) < 2n ** 64n)
    return BigInt(value);
  throw new Error(`${what} must be a u64, got ${JSON.stringify(value)}`);
}

export function parseAccountId(value: unknown, what: string): string {
  if (typeof value !== "string" || !isValidAccountId(value)) {
    throw new Error(`${what} is not a valid account id: ${JSON.stringify(value)}`);
  }
  return value;
}

/** u64 as a JSON number (nearcore's u64 fields); exact below 2^53. */
export function u64Json(v: bigint): number {
  return Number(v);
}

/** AccountView fields (without account_id), as query view_account and state changes carry them. */
export function accountToView(a: Account): Record<string, unknown> {
  return {
    amount: a.amount.toString(),
    locked: a.locked.toString(),
    code_hash: hashToString(a.codeHash),
    storage_usage: u64Json(a.storageUsage),
    storage_paid_at: 0,
  };
}

export function permissionToView(p: AccessKey["permission"]): unknown {
  if (p.kind === "fullAccess") return "FullAccess";
  return {
    FunctionCall: {
      allowance: p.allowance === null ? null : p.allowance.toString(),
      receiver_id: p.receiverId,
      method_names: p.methodNames,
    },
  };
}

export function accessKeyToView(k: AccessKey): Record<string, unknown> {
  return { nonce: u64Json(k.nonce), permission: permissionToView(k.permission) };
}

export function accessKeyFromView(view: unknown, what: string): AccessKey {
  if (typeof view !== "object" || view === null) throw new Error(`${what} must be an object`);
  const v = view as Record<string, unknown>;
  const nonce = parseU64(v.nonce ?? 0, `${what}.nonce`);
  const p = v.permission;
  if (p === "FullAccess") return { nonce, permission: { kind: "fullAccess" } };
  const fc =
    typeof p === "object" && p !== null ? (p as Record<string, unknown>).FunctionCall : undefined;
  if (typeof fc !== "object" || fc === null) {
    throw new Error(`${what}.permission must be "FullAccess" or { FunctionCall: {...} }`);
  }
  const f = fc as Record<string, unknown>;
  const allowance =
    f.allowance === null || f.allowance === undefined
      ? null
      : parseU128(f.allowance, `${what} allowance`);
  if (typeof f.receiver_id !== "string") throw new Error(`${what} receiver_id must be a string`);
  const names = f.method_names ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
    throw new Error(`${what} method_names must be an array of strings`);
  }
  return {
    nonce,
    permission: {
      kind: "functionCall",
      allowance,
      receiverId: f.receiver_id,
      methodNames: names as string[],
    },
  };
}

export function accountFromView(view: unknown, what: string): Account {
  if (typeof view !== "object" || view === null) throw new Error(`${what} must be an object`);
  const v = view as Record<string, unknown>;
  return {
    amount: parseU128(v.amount, `${what}.amount`),
    locked: parseU128(v.locked ?? "0", `${what}.locked`),
    codeHash: v.code_hash === undefined ? ZERO_HASH : parseHash(v.code_hash, `${what}.code_hash`),
    storageUsage: parseU64(v.storage_usage ?? 0, `${what}.storage_usage`),
  };
}

export function publicKeyView(key: PublicKey): string {
  return publicKeyToString(key);
}
