/**
 * NEAR account id rules (near-account-id, validity rules version 1 at protocol 77) and the
 * account kinds the runtime treats specially.
 */

const MIN_LEN = 2;
const MAX_LEN = 64;
const SYSTEM_ACCOUNT = "system";
const NEAR_IMPLICIT = /^[0-9a-f]{64}$/;
const ETH_IMPLICIT = /^0x[0-9a-f]{40}$/;

/** Returns why `id` is not a valid account id, or null when it is. */
export function accountIdError(id: string): string | null {
  if (id.length < MIN_LEN) return `the Account ID is too short: ${JSON.stringify(id)}`;
  if (id.length > MAX_LEN) return `the Account ID is too long: ${JSON.stringify(id)}`;
  // Parts separated by '.', each made of [a-z0-9] runs joined by single '-' or '_'.
  let prevSeparator = true;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const alnum = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (alnum) {
      prevSeparator = false;
      continue;
    }
    const separator = c === 45 || c === 95 || c === 46;
    if (!separator)
      return `the Account ID contains an invalid character at index ${i}: ${JSON.stringify(id)}`;
    if (prevSeparator)
      return `the Account ID has a redundant separator at index ${i}: ${JSON.stringify(id)}`;
    prevSeparator = true;
  }
  if (prevSeparator)
    return `the Account ID has a redundant separator at index ${id.length - 1}: ${JSON.stringify(id)}`;
  return null;
}

export function isValidAccountId(id: string): boolean {
  return accountIdError(id) === null;
}

export function isSystemAccount(id: string): boolean {
  return id === SYSTEM_ACCOUNT;
}

export function isNearImplicit(id: string): boolean {
  return NEAR_IMPLICIT.test(id);
}

export function isEthImplicit(id: string): boolean {
  return ETH_IMPLICIT.test(id);
}

export function isImplicit(id: string): boolean {
  return isNearImplicit(id) || isEthImplicit(id);
}

export function isTopLevel(id: string): boolean {
  return !id.includes(".");
}

/** True when `id` is a direct sub-account of `parent` ("a.parent"). */
export function isDirectSubAccountOf(id: string, parent: string): boolean {
  if (!id.endsWith(`.${parent}`)) return false;
  const head = id.slice(0, id.length - parent.length - 1);
  return head.length > 0 && !head.includes(".");
}
