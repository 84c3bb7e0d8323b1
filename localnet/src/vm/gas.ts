/**
 * The gas counter of a function call, as nearcore's GasCounter: burnt gas, gas prepaid to
 * promises, the two limits (prepaid gas and max_gas_burnt) and a profile of where gas went.
 * Amounts are JS numbers: every gas value that can pass a limit is below 2^53 (limits are at
 * most 300 Tgas); larger products are only used to decide that a limit is exceeded, and u64
 * overflow is still detected exactly.
 */
import type { ExtCostName, Fee, RuntimeConfig } from "../config/runtime-config.ts";
import { type HostError, hostErrors } from "./errors.ts";
import type { GasProfileEntry } from "./types.ts";

const U64_MAX = 18446744073709551615n;
const U64_LIMIT = 2 ** 64;

/** nearcore's ActionCosts, with the fee each one maps to in the runtime config. */
export type ActionCost =
  | "create_account"
  | "delete_account"
  | "deploy_contract_base"
  | "deploy_contract_byte"
  | "function_call_base"
  | "function_call_byte"
  | "transfer"
  | "stake"
  | "add_full_access_key"
  | "add_function_call_key_base"
  | "add_function_call_key_byte"
  | "delete_key"
  | "new_action_receipt"
  | "new_data_receipt_base"
  | "new_data_receipt_byte";

export function actionFee(config: RuntimeConfig, cost: ActionCost): Fee {
  const t = config.transaction_costs;
  const a = t.action_creation_config;
  switch (cost) {
    case "create_account":
      return a.create_account_cost;
    case "delete_account":
      return a.delete_account_cost;
    case "deploy_contract_base":
      return a.deploy_contract_cost;
    case "deploy_contract_byte":
      return a.deploy_contract_cost_per_byte;
    case "function_call_base":
      return a.function_call_cost;
    case "function_call_byte":
      return a.function_call_cost_per_byte;
    case "transfer":
      return a.transfer_cost;
    case "stake":
      return a.stake_cost;
    case "add_full_access_key":
      return a.add_key_cost.full_access_cost;
    case "add_function_call_key_base":
      return a.add_key_cost.function_call_cost;
    case "add_function_call_key_byte":
      return a.add_key_cost.function_call_cost_per_byte;
    case "delete_key":
      return a.delete_key_cost;
    case "new_action_receipt":
      return t.action_receipt_creation_config;
    case "new_data_receipt_base":
      return t.data_receipt_creation_config.base_cost;
    case "new_data_receipt_byte":
      return t.data_receipt_creation_config.cost_per_byte;
  }
}

export function sendFee(fee: Fee, sir: boolean): number {
  return sir ? fee.send_sir : fee.send_not_sir;
}

/** A gas amount from a u64 count times a per-unit cost; IntegerOverflow past u64. */
function product(count: number | bigint, unitCost: number): number {
  if (typeof count === "number" && count <= 0xffffffff) return count * unitCost;
  const exact = BigInt(count) * BigInt(unitCost);
  if (exact > U64_MAX) throw hostErrors.integerOverflow();
  return Number(exact);
}

export class GasCounter {
  burnt = 0;
  /** Gas prepaid to promises (part of used gas, not burnt). */
  promises = 0;
  /** Hard limit on burnt gas for instrumented wasm code: min(max burnt, prepaid - promises). */
  limit: number;
  readonly maxBurnt: number;
  readonly prepaid: number;
  readonly isView: boolean;
  readonly costs: Record<ExtCostName, number>;
  private readonly extProfile = new Map<string, number>();
  private readonly actionProfile = new Map<string, number>();

  constructor(
    costs: Record<ExtCostName, number>,
    maxBurnt: number,
    prepaid: number,
    isView: boolean,
  ) {
    this.costs = costs;
    this.maxBurnt = maxBurnt;
    // A view call ignores prepaid gas.
    this.prepaid = isView ? Number.POSITIVE_INFINITY : prepaid;
    this.isView = isView;
    this.limit = Math.min(maxBurnt, this.prepaid);
  }

  used(): number {
    return this.burnt + this.promises;
  }

  burn(gas: number): void {
    const next = this.burnt + gas;
    if (next >= U64_LIMIT) throw hostErrors.integerOverflow();
    if (next <= this.limit) {
      this.burnt = next;
      return;
    }
    throw this.processGasLimit(next, next + this.promises);
  }

  /** nearcore's process_gas_limit: clamps the counters and names the limit that was crossed. */
  processGasLimit(newBurnt: number, newUsed: number): HostError {
    const hardBurntLimit = Math.min(this.prepaid, this.maxBurnt);
    this.burnt = Math.min(newBurnt, hardBurntLimit);
    const usedLimit = Math.min(this.prepaid, newUsed);
    this.promises = Math.max(0, usedLimit - this.burnt);
    return newBurnt > this.maxBurnt ? hostErrors.gasLimitExceeded() : hostErrors.gasExceeded();
  }

  payBase(cost: ExtCostName): void {
    this.payPer(cost, 1);
  }

  payPer(cost: ExtCostName, count: number | bigint): void {
    const gas = product(count, this.costs[cost]);
    const before = this.burnt;
    try {
      this.burn(gas);
    } finally {
      const delta = this.burnt - before;
      if (delta > 0) this.extProfile.set(cost, (this.extProfile.get(cost) ?? 0) + delta);
    }
  }

  /** Burns `burnGas` and reserves `useGas - burnGas` for promises (nearcore's deduct_gas). */
  payAction(burnGas: number, useGas: number, action: ActionCost): void {
    const before = this.burnt;
    try {
      this.deduct(burnGas, useGas);
    } finally {
      const delta = this.burnt - before;
      if (delta > 0) this.actionProfile.set(action, (this.actionProfile.get(action) ?? 0) + delta);
    }
  }

  prepay(useGas: number): void {
    this.deduct(0, useGas);
  }

  private deduct(burnGas: number, useGas: number): void {
    const promiseGas = useGas - burnGas;
    const newPromises = this.promises + promiseGas;
    const newBurnt = this.burnt + burnGas;
    const newUsed = newBurnt + newPromises;
    if (newUsed >= U64_LIMIT) throw hostErrors.integerOverflow();
    if (newBurnt <= this.maxBurnt && newUsed <= this.prepaid) {
      if (promiseGas !== 0 && !this.isView) {
        this.limit = Math.min(this.maxBurnt, this.prepaid - newPromises);
      }
      this.burnt = newBurnt;
      this.promises = newPromises;
      return;
    }
    throw this.processGasLimit(newBurnt, newUsed);
  }

  /** The profile as RPC shows it: non-zero entries, wasm instructions being the remainder. */
  profile(): GasProfileEntry[] {
    const entries: GasProfileEntry[] = [];
    let accounted = 0;
    for (const [cost, gas] of this.actionProfile) {
      accounted += gas;
      entries.push({ costCategory: "ACTION_COST", cost: cost.toUpperCase(), gasUsed: BigInt(gas) });
    }
    for (const [cost, gas] of this.extProfile) {
      accounted += gas;
      entries.push({
        costCategory: "WASM_HOST_COST",
        cost: cost.toUpperCase(),
        gasUsed: BigInt(gas),
      });
    }
    const wasm = this.burnt - accounted;
    if (wasm > 0) {
      entries.push({
        costCategory: "WASM_HOST_COST",
        cost: "WASM_INSTRUCTION",
        gasUsed: BigInt(wasm),
      });
    }
    entries.sort((a, b) =>
      a.costCategory === b.costCategory
        ? a.cost < b.cost
          ? -1
          : a.cost > b.cost
            ? 1
            : 0
        : a.costCategory < b.costCategory
          ? -1
          : 1,
    );
    return entries;
  }
}
