/**
 * Stateless checks of an action list (nearcore action_validation.rs), shared by transactions,
 * delegate actions and receipts that contracts create. Returns the ActionsValidationError view.
 */
import type { LimitConfig } from "../config/runtime-config.ts";
import { isValidAccountId } from "./account-id.ts";
import { type ErrorView, variant } from "./errors.ts";
import { totalPrepaidGas } from "./fees.ts";
import { publicKeyToString } from "./keys.ts";
import type { Action } from "./types.ts";

export function validateActions(limits: LimitConfig, actions: Action[]): ErrorView | null {
  if (actions.length > limits.max_actions_per_receipt) {
    return variant("TotalNumberOfActionsExceeded", {
      total_number_of_actions: actions.length,
      limit: limits.max_actions_per_receipt,
    });
  }
  let foundDelegate = false;
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i] as Action;
    if (action.kind === "deleteAccount" && i !== actions.length - 1)
      return "DeleteActionMustBeFinal";
    if (action.kind === "delegate") {
      if (foundDelegate) return "DelegateActionMustBeOnlyOne";
      foundDelegate = true;
    }
    const error = validateAction(limits, action);
    if (error !== null) return error;
  }
  const prepaid = totalPrepaidGas(actions);
  if (prepaid > BigInt(limits.max_total_prepaid_gas)) {
    return variant("TotalPrepaidGasExceeded", {
      total_prepaid_gas: Number(prepaid),
      limit: limits.max_total_prepaid_gas,
    });
  }
  return null;
}

function validateAction(limits: LimitConfig, action: Action): ErrorView | null {
  switch (action.kind) {
    case "deployContract":
      if (action.code.length > limits.max_contract_size) {
        return variant("ContractSizeExceeded", {
          size: action.code.length,
          limit: limits.max_contract_size,
        });
      }
      return null;
    case "functionCall": {
      if (action.gas === 0n) return "FunctionCallZeroAttachedGas";
      const nameLength = Buffer.byteLength(action.methodName);
      if (nameLength > limits.max_length_method_name) {
        return variant("FunctionCallMethodNameLengthExceeded", {
          length: nameLength,
          limit: limits.max_length_method_name,
        });
      }
      if (action.args.length > limits.max_arguments_length) {
        return variant("FunctionCallArgumentsLengthExceeded", {
          length: action.args.length,
          limit: limits.max_arguments_length,
        });
      }
      return null;
    }
    case "stake":
      // Staking keys must be ed25519 (nearcore also requires them to be ristretto-compatible).
      if (action.publicKey.keyType !== 0) {
        return variant("UnsuitableStakingKey", { public_key: publicKeyToString(action.publicKey) });
      }
      return null;
    case "addKey": {
      const p = action.permission;
      if (p.kind === "fullAccess") return null;
      if (limits.account_id_validity_rules_version >= 1 && !isValidAccountId(p.receiverId)) {
        return variant("InvalidAccountId", { account_id: p.receiverId.slice(0, 128) });
      }
      let total = 0;
      for (const name of p.methodNames) {
        const length = Buffer.byteLength(name);
        if (length > limits.max_length_method_name) {
          return variant("AddKeyMethodNameLengthExceeded", {
            length,
            limit: limits.max_length_method_name,
          });
        }
        total += length + 1;
      }
      if (total > limits.max_number_bytes_method_names) {
        return variant("AddKeyMethodNamesNumberOfBytesExceeded", {
          total_number_of_bytes: total,
          limit: limits.max_number_bytes_method_names,
        });
      }
      return null;
    }
    case "deleteAccount":
      if (!isValidAccountId(action.beneficiaryId)) {
        return variant("InvalidAccountId", { account_id: action.beneficiaryId.slice(0, 128) });
      }
      return null;
    case "delegate": {
      const inner = action.delegateAction.actions;
      if (inner.length > limits.max_actions_per_receipt) {
        return variant("TotalNumberOfActionsExceeded", {
          total_number_of_actions: inner.length,
          limit: limits.max_actions_per_receipt,
        });
      }
      return validateActions(limits, inner);
    }
    default:
      return null;
  }
}
