/**
 * The genesis of a localnet chain, as nearcore's `init` writes it for a local network: the
 * validator account test.near and the protocol account near, with protocol 77's parameters.
 */
import { PROTOCOL_VERSION } from "../config/runtime-config.ts";
import type { StateRecordView } from "../runtime/types.ts";
import { publicKeyToString } from "./encoding.ts";
import { type KeyPair, keyPairFromSeed } from "./keys.ts";

const NEAR = 10n ** 24n;
/** nearcore's TESTING_INIT_BALANCE and TESTING_INIT_STAKE. */
export const VALIDATOR_BALANCE = 1_000_000_000n * NEAR;
export const VALIDATOR_STAKE = 50_000_000n * NEAR;
export const PROTOCOL_ACCOUNT_BALANCE = 1_000_000_000n * NEAR;
export const MIN_GAS_PRICE = 100_000_000n;
export const GAS_LIMIT = 1_000_000_000_000_000n;
export const EPOCH_LENGTH = 500;
export const TRANSACTION_VALIDITY_PERIOD = 100;
export const VALIDATOR_ACCOUNT = "test.near";
export const PROTOCOL_ACCOUNT = "near";
export const CHAIN_ID = "localnet";
/** An account with one full access key: 100 bytes for the account, 82 for the key record. */
const ACCOUNT_WITH_ONE_KEY_STORAGE = 182;
const NO_CODE_HASH = "11111111111111111111111111111111";

/** nearcore's GenesisConfig, as genesis.json and EXPERIMENTAL_genesis_config carry it. */
export type GenesisConfig = Record<string, unknown> & {
  chain_id: string;
  genesis_time: string;
  genesis_height: number;
  epoch_length: number;
  min_gas_price: string;
  gas_limit: number;
  transaction_validity_period: number;
  total_supply: string;
};

export interface Genesis {
  config: GenesisConfig;
  records: StateRecordView[];
}

function accountRecords(
  accountId: string,
  amount: bigint,
  locked: bigint,
  key: KeyPair,
): StateRecordView[] {
  return [
    {
      Account: {
        account_id: accountId,
        account: {
          amount: amount.toString(),
          locked: locked.toString(),
          code_hash: NO_CODE_HASH,
          storage_usage: ACCOUNT_WITH_ONE_KEY_STORAGE,
          version: "V1",
        },
      },
    },
    {
      AccessKey: {
        account_id: accountId,
        public_key: publicKeyToString(key.publicKey),
        access_key: { nonce: 0, permission: "FullAccess" },
      },
    },
  ];
}

/** A fresh genesis whose validator test.near holds `validatorKey`. */
export function createGenesis(validatorKey: KeyPair, genesisTime: Date = new Date()): Genesis {
  const protocolKey = keyPairFromSeed(PROTOCOL_ACCOUNT);
  const totalSupply = VALIDATOR_BALANCE + VALIDATOR_STAKE + PROTOCOL_ACCOUNT_BALANCE;
  const config: GenesisConfig = {
    protocol_version: PROTOCOL_VERSION,
    genesis_time: genesisTime.toISOString(),
    chain_id: CHAIN_ID,
    genesis_height: 0,
    num_block_producer_seats: 50,
    num_block_producer_seats_per_shard: [50],
    avg_hidden_validator_seats_per_shard: [0],
    dynamic_resharding: false,
    protocol_upgrade_stake_threshold: [4, 5],
    epoch_length: EPOCH_LENGTH,
    gas_limit: Number(GAS_LIMIT),
    min_gas_price: MIN_GAS_PRICE.toString(),
    max_gas_price: "10000000000000000000000",
    block_producer_kickout_threshold: 90,
    chunk_producer_kickout_threshold: 90,
    chunk_validator_only_kickout_threshold: 80,
    online_min_threshold: [9, 10],
    online_max_threshold: [99, 100],
    gas_price_adjustment_rate: [1, 100],
    validators: [
      {
        account_id: VALIDATOR_ACCOUNT,
        public_key: publicKeyToString(validatorKey.publicKey),
        amount: VALIDATOR_STAKE.toString(),
      },
    ],
    transaction_validity_period: TRANSACTION_VALIDITY_PERIOD,
    protocol_reward_rate: [1, 10],
    max_inflation_rate: [1, 20],
    total_supply: totalSupply.toString(),
    num_blocks_per_year: 31_536_000,
    protocol_treasury_account: PROTOCOL_ACCOUNT,
    fishermen_threshold: "10000000000000000000000000",
    minimum_stake_divisor: 10,
    shard_layout: { V0: { num_shards: 1, version: 0 } },
    num_chunk_only_producer_seats: 300,
    minimum_validators_per_shard: 1,
    max_kickout_stake_perc: 100,
    minimum_stake_ratio: [1, 6250],
    use_production_config: false,
  };
  return {
    config,
    records: [
      ...accountRecords(VALIDATOR_ACCOUNT, VALIDATOR_BALANCE, VALIDATOR_STAKE, validatorKey),
      ...accountRecords(PROTOCOL_ACCOUNT, PROTOCOL_ACCOUNT_BALANCE, 0n, protocolKey),
    ],
  };
}

/** Checks the fields the node relies on in a genesis read from disk. */
export function parseGenesis(value: unknown, source: string): Genesis {
  if (typeof value !== "object" || value === null) {
    throw new Error(`${source}: genesis must be a JSON object`);
  }
  const { records, ...config } = value as Record<string, unknown>;
  if (!Array.isArray(records)) {
    throw new Error(`${source}: genesis has no "records" array`);
  }
  for (const field of ["chain_id", "genesis_time", "min_gas_price", "total_supply"]) {
    if (typeof config[field] !== "string") {
      throw new Error(`${source}: genesis field "${field}" must be a string`);
    }
  }
  for (const field of [
    "genesis_height",
    "epoch_length",
    "gas_limit",
    "transaction_validity_period",
  ]) {
    if (typeof config[field] !== "number") {
      throw new Error(`${source}: genesis field "${field}" must be a number`);
    }
  }
  if (Number.isNaN(Date.parse(config.genesis_time as string))) {
    throw new Error(`${source}: genesis_time is not a date: ${String(config.genesis_time)}`);
  }
  return { config: config as GenesisConfig, records: records as StateRecordView[] };
}
