/** Owner settings: parameters and dev mode. */
import { emitEvent } from "../../common/src/events.ts";
import type { RegistryParams } from "../../common/src/registry-types.ts";
import { requireBool } from "../../common/src/validate.ts";
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
