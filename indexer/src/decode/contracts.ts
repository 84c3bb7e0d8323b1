/** The contract accounts whose events are indexed, by role. */

export type ContractRole = "registry" | "escrow" | "governance";

export interface Contracts {
  registry: string | null;
  escrow: string | null;
  governance: string | null;
}

export function roleOf(contracts: Contracts, account: string): ContractRole | null {
  if (account === contracts.registry) return "registry";
  if (account === contracts.escrow) return "escrow";
  if (account === contracts.governance) return "governance";
  return null;
}
