/** sandbox_patch_state and sandbox_fast_forward, as near-sandbox serves them. */
import type { StateRecordView } from "../runtime/types.ts";
import type { RpcContext } from "./context.ts";
import { parseError } from "./errors.ts";
import { paramsObject } from "./params.ts";

const RECORD_KINDS = [
  "Account",
  "AccessKey",
  "Contract",
  "Data",
  "PostponedReceipt",
  "ReceivedData",
  "DelayedReceipt",
];

export function patchState(params: unknown, ctx: RpcContext): unknown {
  const named = paramsObject(params, "sandbox_patch_state");
  const records = named.records;
  if (!Array.isArray(records))
    throw parseError("Failed parsing args: `records` must be an array of state records");
  records.forEach((record: unknown, index) => {
    const kind = typeof record === "object" && record !== null ? Object.keys(record)[0] : undefined;
    if (!kind || !RECORD_KINDS.includes(kind)) {
      throw parseError(
        `Failed parsing args: records[${index}] is not a state record (${RECORD_KINDS.join(", ")})`,
      );
    }
  });
  try {
    ctx.node.patchState(records as StateRecordView[]);
  } catch (error) {
    throw parseError(`Failed parsing args: ${(error as Error).message}`);
  }
  return {};
}

export function fastForward(params: unknown, ctx: RpcContext): unknown {
  const named = paramsObject(params, "sandbox_fast_forward");
  const delta = named.delta_height;
  if (typeof delta !== "number" || !Number.isSafeInteger(delta) || delta < 1) {
    throw parseError("Failed parsing args: `delta_height` must be a positive integer");
  }
  ctx.node.fastForward(BigInt(delta));
  return {};
}
