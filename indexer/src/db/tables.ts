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
];
