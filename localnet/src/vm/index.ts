/** localnet's VM: runs one NEAR function call in wasm with nearcore's host functions and gas. */
import { createRunner } from "./runner.ts";
import type { RunFunctionCall } from "./types.ts";

export { createRunner } from "./runner.ts";
export type * from "./types.ts";

/** The protocol-77 runner, with prepared modules cached by code hash for the process. */
export const runFunctionCall: RunFunctionCall = createRunner();
