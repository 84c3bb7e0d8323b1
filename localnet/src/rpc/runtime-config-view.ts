/**
 * The parts of protocol 77's RuntimeConfigView that the runtime's config object does not carry
 * (they matter to chunk production, not to applying receipts), so that EXPERIMENTAL_protocol_config
 * answers the whole view. Values: nearcore's parameters for protocol 77 (near/nearcore,
 * core/parameters/src/snapshots/near_parameters__config_store__tests__77.json.snap).
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";

const CONGESTION_CONTROL_CONFIG = {
  max_congestion_incoming_gas: 400_000_000_000_000_000,
  max_congestion_outgoing_gas: 10_000_000_000_000_000,
  max_congestion_memory_consumption: 1_000_000_000,
  max_congestion_missed_chunks: 125,
  max_outgoing_gas: 300_000_000_000_000_000,
  min_outgoing_gas: 1_000_000_000_000_000,
  allowed_shard_outgoing_gas: 1_000_000_000_000_000,
  max_tx_gas: 500_000_000_000_000,
  min_tx_gas: 20_000_000_000_000,
  reject_tx_congestion_threshold: 0.8,
  outgoing_receipts_usual_size_limit: 102_400,
  outgoing_receipts_big_size_limit: 4_718_592,
};

const WITNESS_CONFIG = {
  main_storage_proof_size_soft_limit: 4_000_000,
  combined_transactions_size_limit: 4_194_304,
  new_transactions_validation_state_size_soft_limit: 572_864,
};

export function runtimeConfigView(config: RuntimeConfig): Record<string, unknown> {
  return {
    ...config,
    wasm_config: {
      ...config.wasm_config,
      global_contract_host_fns: false,
      reftypes_bulk_memory: false,
      saturating_float_to_int: true,
    },
    congestion_control_config: CONGESTION_CONTROL_CONFIG,
    witness_config: WITNESS_CONFIG,
  };
}
