/** Assets: native NEAR, or NEP-141 tokens governance has allowed. */

import { fail } from "../../common/src/errors.ts";
import { NEAR_ASSET } from "../../common/src/escrow-types.ts";
import { hasRecord, removeRecord, writeRecord } from "../../common/src/store.ts";
import { requireAccountId, requireString } from "../../common/src/validate.ts";
import { tokenKey, tokenSet } from "./keys.ts";

export function isAllowedToken(token: string): boolean {
  return hasRecord(tokenKey(token));
}

/** "NEAR" or a token account id (for balances and withdrawals, allowed or not any more). */
export function parseAsset(value: unknown, field: string): string {
  const text = requireString(value, field, 2, 64);
  return text === NEAR_ASSET ? text : requireAccountId(text, field);
}

/** An asset new money may come in: NEAR or a currently allowed token. */
export function parseUsableAsset(value: unknown, field: string): string {
  const asset = parseAsset(value, field);
  if (asset !== NEAR_ASSET && !isAllowedToken(asset)) {
    fail(`${field}: token ${asset} is not allowed by governance`);
  }
  return asset;
}

/** Returns false when the token was already allowed. */
export function allowToken(token: string): boolean {
  if (isAllowedToken(token)) {
    return false;
  }
  writeRecord(tokenKey(token), true);
  tokenSet().add(token);
  return true;
}

/** Returns false when the token was not allowed. */
export function disallowToken(token: string): boolean {
  if (!isAllowedToken(token)) {
    return false;
  }
  removeRecord(tokenKey(token));
  tokenSet().remove(token);
  return true;
}

export function listTokens(from: number, limit: number): string[] {
  return tokenSet().page(from, limit);
}
