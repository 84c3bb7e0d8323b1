/** The escrow's small root state (serialized to STATE on every call), defaults and fixed limits. */
import type { EscrowParams } from "../../common/src/escrow-types.ts";

/**
 * Layout version of STATE and records; `migrate` upgrades older layouts to this one. Version 2:
 * jobs carry the keyset and the delivery receipt's fields (older job records are read with them
 * null, see jobs.ts), job requests carry keyset_sha256. Version 3: providers' exposure records
 * (`pe:`) counted for jobs from `exposure_from_job_id` on; job requests need max_price_per_unit.
 * Version 4: inference sessions (`x:` records, `next_session_id`), params min/max_session_ns.
 */
export const CONTRACT_VERSION = 4;

export interface EscrowState {
  version: number;
  owner: string;
  treasury: string;
  arbiter: string;
  registry: string;
  params: EscrowParams;
  next_job_id: string;
  next_approval_id: string;
  /** The first job whose delivery counts in its provider's exposure (exposure.ts). */
  exposure_from_job_id: string;
  next_session_id: string;
}

export const SECOND_NS = 1_000_000_000n;
export const TGAS = 1_000_000_000_000n;

export const LIMITS = {
  /** Most methods' JSON arguments. */
  argsBytes: 4096,
  /** ft_on_transfer's msg. */
  msgBytes: 2048,
  /** Ceiling of params.max_page_size. */
  pageSizeCeiling: 500,
  /** A dispute reason or resolution note. */
  textChars: 512,
} as const;

/**
 * Flat storage fees, in bytes at storage_byte_cost, taken from the payer's NEP-145 storage balance:
 * upper bounds of what each record adds (tests check the contract's storage stays covered). A job
 * pays for its record, its index entries and the balance records its payouts may create: 3911
 * bytes measured with 64-character account ids (a sandbox test checks the fee covers it).
 */
export const STORAGE_BYTES = {
  registration: 600n,
  job: 6000n,
  allowance: 600n,
  approval: 1500n,
  session: 5000n,
} as const;

export const GAS = {
  /** The registry's is_eligible. */
  eligibility: 30n * TGAS,
  /** on_eligibility: creates the job or refunds. */
  eligibilityCallback: 60n * TGAS,
  /** on_accept, on_deliver, on_reclaim: at least this, plus all gas left unused (weight 1). */
  recheckCallback: 25n * TGAS,
  /** The token's ft_transfer on withdrawal. */
  ftTransfer: 30n * TGAS,
  /** on_withdraw: restores the balance if the transfer failed. */
  withdrawCallback: 40n * TGAS,
  /** migrate gets at least this, plus all gas left unused by upgrade. */
  migrate: 30n * TGAS,
} as const;

export const DEFAULT_PARAMS: EscrowParams = {
  fee_bps: 100,
  dispute_window_ns: (86_400n * SECOND_NS).toString(),
  arbitration_window_ns: (7n * 86_400n * SECOND_NS).toString(),
  min_accept_ns: (60n * SECOND_NS).toString(),
  max_accept_ns: (86_400n * SECOND_NS).toString(),
  min_deliver_ns: (60n * SECOND_NS).toString(),
  max_deliver_ns: (7n * 86_400n * SECOND_NS).toString(),
  max_page_size: 100,
  min_session_ns: (60n * SECOND_NS).toString(),
  max_session_ns: (7n * 86_400n * SECOND_NS).toString(),
};
