import { expect, test } from "vitest";
import { loadingGas, OP_COST, run, wat } from "./helpers.ts";

test("smoke", () => {
  const code = wat(`(module (func (export "main") (nop)))`);
  const out = run(code, "main");
  console.log(out);
  expect(out.aborted).toBeNull();
  expect(out.burntGas).toBe(loadingGas(code.length) + OP_COST * 9n);
});
