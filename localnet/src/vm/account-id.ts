/** NEAR account id rules (near-account-id crate): 2..=64 chars, lowercase parts joined by '.'. */
const PART = /^[a-z0-9]+([-_][a-z0-9]+)*$/;

export function isValidAccountId(id: string): boolean {
  if (id.length < 2 || id.length > 64) return false;
  return id.split(".").every((part) => PART.test(part));
}

/** NEAR-implicit (64 hex) or ETH-implicit (0x + 40 hex) account: transfers there create it. */
export function isImplicitAccount(id: string): boolean {
  return /^[0-9a-f]{64}$/.test(id) || /^0x[0-9a-f]{40}$/.test(id);
}
