/** Owner settings: parameters, dev mode and the escrow whose jobs hold bonds. */
import { emitEvent } from "../../common/src/events.ts";
import type { RegistryParams } from "../../common/src/registry-types.ts";
import { requireAccountId, requireBool } from "../../common/src/validate.ts";
import { ownerArgs } from "./owner-args.ts";
import { mergeParams } from "./params.ts";
import type { RegistryState } from "./state.ts";

export function setParams(state: RegistryState, value: unknown): RegistryParams {
  const args = ownerArgs(state, "set_params", value, ["params"]);
  state.params = mergeParams(state.params, args.params, "params");
  emitEvent({ event: "params_updated", data: { params: state.params } });
  return state.params;
}

/** Dev mode makes none-dev machines (no TEE) eligible without verdicts: local and test networks. */
export function setDevMode(state: RegistryState, value: unknown): boolean {
  const args = ownerArgs(state, "set_dev_mode", value, ["enabled"]);
  state.dev_mode = requireBool(args.enabled, "enabled");
  emitEvent({ event: "dev_mode_set", data: { enabled: state.dev_mode } });
  return state.dev_mode;
}

/**
 * The escrow withdraw_bond asks whether the provider still has delivered or disputed jobs (whose
 * disputes may end in a slash): the bond stays while it does.
 */
export function setEscrow(state: RegistryState, value: unknown): string {
  const args = ownerArgs(state, "set_escrow", value, ["escrow"]);
  const escrow = requireAccountId(args.escrow, "escrow");
  state.escrow = escrow;
  emitEvent({ event: "escrow_set", data: { escrow } });
  return escrow;
}
