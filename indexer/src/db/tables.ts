/** The tables built from events (emptied by a re-index), in no particular order. */
export const DERIVED_TABLES = [
  "registry_state",
  "providers",
  "machines",
  "machine_gpus",
  "attestations",
  "verdicts",
  "verifiers",
  "allowlist",
  "escrow_state",
  "escrow_tokens",
  "jobs",
  "job_history",
  "balances",
  "allowances",
  "approvals",
  "escrow_storage",
];
