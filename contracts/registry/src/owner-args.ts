/** Common entry checks of owner-only methods. */
import { assertNoDeposit, assertOwner } from "../../common/src/owner.ts";
import { requireObject, requireOnlyKeys } from "../../common/src/validate.ts";
import type { RegistryState } from "./state.ts";

/** Checks the caller is the owner, no deposit is attached and only `keys` are given. */
export function ownerArgs(
  state: RegistryState,
  method: string,
  value: unknown,
  keys: readonly string[],
): Record<string, unknown> {
  assertOwner(state.owner, method);
  assertNoDeposit(method);
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", keys);
  return args;
}
