/** Rejects oversized arguments before any work is done on them. */
import { near } from "near-sdk-js";
import { fail } from "./errors.ts";

export function assertArgsSize(method: string, maxBytes: number): void {
  const size = near.inputRaw().length;
  if (size > maxBytes) {
    fail(`${method}: arguments are ${size} bytes, more than the ${maxBytes} allowed`);
  }
}
