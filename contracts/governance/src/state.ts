/** The governance contract's small root state (serialized to STATE on every call) and its limits. */
import type { GovernanceConfig, TokenMetadata } from "../../common/src/governance-types.ts";

/**
 * Layout version of STATE and records; `migrate` brings older layouts to this one. Version 2:
 * proposals keep their grace period, accounts their grant (`g`), `so` the total owed to accounts.
 */
export const CONTRACT_VERSION = 2;

export interface GovernanceState {
  version: number;
  config: GovernanceConfig;
  metadata: TokenMetadata;
  total_supply: string;
  next_proposal_id: number;
  /** The grace period of proposals stored by version 1 (the one in force at the upgrade). */
  legacy_grace_period_blocks: number;
}

export const TGAS = 1_000_000_000_000n;

export const LIMITS = {
  argsBytes: 8192,
  maxHolders: 100,
  maxGoverned: 10,
  maxActions: 10,
  descriptionChars: 4000,
  reasonChars: 500,
  memoChars: 256,
  functionArgsBytes: 4096,
  maxFunctionGasTgas: 250,
  pageLimit: 100,
  /** Block counts in config: about a year at one block a second. */
  maxBlocks: 40_000_000,
  /** A contract account's code may be up to 4 MiB (max_contract_size). */
  maxBlobBytes: 4_194_304,
} as const;

/**
 * Storage a registered account starts with: its record (an upper bound of its size, charged flat
 * so that unregistering refunds exactly) plus room for the checkpoints its transfers and
 * delegations write. Checkpoint bytes are charged as measured against the account's NEP-145
 * balance, so spamming transfers cannot drain the contract's own balance.
 */
export const ACCOUNT_RECORD_BYTES = 300n;
export const CHECKPOINT_ALLOWANCE_BYTES = 1000n;

/**
 * Charged to an ft_transfer_call's sender until ft_resolve_transfer, which keeps what the refund's
 * checkpoints took: two delegates, each a new entry (key ≤ 78, value ≤ 50, 40 bytes of record) and
 * a new count (key ≤ 67, value ≤ 10, 40): 570 bytes at most.
 */
export const REFUND_RESERVE_BYTES = 600n;

/**
 * Gas. An upgrade action reads the blob, sends it as the target's `upgrade` input and the target
 * deploys it and runs migrate: its gas grows with the code size (deploy costs ~71 Mgas a byte
 * on NEAR, sending ~4.5 Mgas a byte, the target's reading of its input more). The callback gets
 * a fixed amount plus all gas left (weight 1), so it can go on with the next action.
 */
export const GAS = {
  upgradeBase: 80n * TGAS,
  upgradePerByte: 150_000_000n,
  transfer: 5n * TGAS,
  ftTransfer: 15n * TGAS,
  callback: 20n * TGAS,
  /** What execute itself burns before handing the rest to the action, beyond reading a blob. */
  executeOverhead: 15n * TGAS,
  blobReadPerByte: 12_000_000n,
  ftOnTransfer: 30n * TGAS,
  ftResolve: 40n * TGAS,
} as const;

export const DEFAULT_METADATA: TokenMetadata = {
  spec: "ft-1.0.0",
  name: "GPU Market Governance",
  symbol: "GPUG",
  icon: null,
  reference: null,
  reference_hash: null,
  decimals: 24,
};
