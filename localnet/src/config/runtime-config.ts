import protocol77 from "./runtime-config-protocol77.json" with { type: "json" };

/** Gas fee triple of an action: charged when the receipt is sent (sir: sender is receiver) and when executed. */
export interface Fee {
  send_sir: number;
  send_not_sir: number;
  execution: number;
}

export interface ActionCreationConfig {
  create_account_cost: Fee;
  deploy_contract_cost: Fee;
  deploy_contract_cost_per_byte: Fee;
  function_call_cost: Fee;
  function_call_cost_per_byte: Fee;
  transfer_cost: Fee;
  stake_cost: Fee;
  add_key_cost: {
    full_access_cost: Fee;
    function_call_cost: Fee;
    function_call_cost_per_byte: Fee;
  };
  delete_key_cost: Fee;
  delete_account_cost: Fee;
  delegate_cost: Fee;
}

export interface TransactionCosts {
  action_receipt_creation_config: Fee;
  data_receipt_creation_config: { base_cost: Fee; cost_per_byte: Fee };
  action_creation_config: ActionCreationConfig;
  storage_usage_config: { num_bytes_account: number; num_extra_bytes_record: number };
  burnt_gas_reward: [number, number];
  pessimistic_gas_price_inflation_ratio: [number, number];
}

export type ExtCostName = keyof (typeof protocol77)["wasm_config"]["ext_costs"];

export interface LimitConfig {
  max_gas_burnt: number;
  max_stack_height: number;
  initial_memory_pages: number;
  max_memory_pages: number;
  registers_memory_limit: number;
  max_register_size: number;
  max_number_registers: number;
  max_number_logs: number;
  max_total_log_length: number;
  max_total_prepaid_gas: number;
  max_actions_per_receipt: number;
  max_number_bytes_method_names: number;
  max_length_method_name: number;
  max_arguments_length: number;
  max_length_returned_data: number;
  max_contract_size: number;
  max_transaction_size: number;
  max_receipt_size: number;
  max_length_storage_key: number;
  max_length_storage_value: number;
  max_promises_per_function_call_action: number;
  max_number_input_data_dependencies: number;
  max_functions_number_per_contract: number;
  max_locals_per_contract: number;
  account_id_validity_rules_version: number;
  yield_timeout_length_in_blocks: number;
  max_yield_payload_size: number;
  per_receipt_storage_proof_size_limit: number;
}

export interface WasmConfig {
  ext_costs: Record<ExtCostName, number>;
  grow_mem_cost: number;
  regular_op_cost: number;
  vm_kind: string;
  discard_custom_sections: boolean;
  storage_get_mode: string;
  fix_contract_loading_cost: boolean;
  implicit_account_creation: boolean;
  eth_implicit_accounts: boolean;
  limit_config: LimitConfig;
}

/**
 * NEAR's RuntimeConfigView: exactly the `runtime_config` object that EXPERIMENTAL_protocol_config
 * returns. Gas values fit in a JS number (all < 2^53); convert to BigInt where they are summed.
 */
export interface RuntimeConfig {
  storage_amount_per_byte: string;
  transaction_costs: TransactionCosts;
  wasm_config: WasmConfig;
  account_creation_config: {
    min_allowed_top_level_account_length: number;
    registrar_account_id: string;
  };
}

/** Protocol version that localnet implements: what near-sandbox 2.6.2 runs. */
export const PROTOCOL_VERSION = 77;

/** The protocol-77 runtime config (nearcore's config snapshot for version 77). */
export const runtimeConfig: RuntimeConfig = protocol77 as RuntimeConfig;
