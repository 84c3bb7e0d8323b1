// Exact gas for known instruction sequences, following finite-wasm's placement of charges as
// NearVm uses it at protocol 77 (block/end/else free, frame fee ceil(frame bytes / 8) ops).
import { describe, expect, test } from "vitest";
import { ext_costs, loadingGas, OP_COST, profileOf, run, TGAS, wat } from "./helpers.ts";

function wasmGas(code: Uint8Array, method: string, prepaid = 300n * TGAS): bigint {
  const out = run(code, method, { prepaidGas: prepaid });
  expect(out.aborted).toBeNull();
  return out.burntGas - loadingGas(code.length);
}

describe("instruction metering", () => {
  test("an empty function pays its 64-byte frame: 8 ops", () => {
    const code = wat(`(module (memory 1) (func (export "f")))`);
    expect(wasmGas(code, "f")).toBe(8n * OP_COST);
  });

  test("straight-line code: one op per instruction, end is free", () => {
    const code = wat(`(module (memory 1) (func (export "f")
      i32.const 1 i32.const 2 i32.add drop))`);
    expect(wasmGas(code, "f")).toBe((8n + 4n) * OP_COST);
  });

  test("locals and parameters enlarge the frame fee", () => {
    // Frame: 64 + 8 (i64) + 4 (i32) + 8 (f64) = 84 bytes -> 11 ops.
    const code = wat(`(module (memory 1) (func (export "f") (local i64 i32 f64)))`);
    expect(wasmGas(code, "f")).toBe(11n * OP_COST);
  });

  test("a loop pays its body on every iteration", () => {
    // 10 iterations of 9 charged ops (loop + 8 body instructions including br_if), frame 68 -> 9.
    const code = wat(`(module (memory 1) (func (export "f") (local i32)
      (loop $l
        (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get 0) (i32.const 10))))))`);
    expect(wasmGas(code, "f")).toBe((9n + 90n) * OP_COST);
  });

  test("blocks are free; if and br pay one op", () => {
    // i32.const, if, i32.const, drop, (else free), ... only the taken branch is charged.
    const code = wat(`(module (memory 1)
      (func (export "then") (if (i32.const 1) (then (drop (i32.const 5))) (else (nop) (nop) (nop))))
      (func (export "else") (if (i32.const 0) (then (drop (i32.const 5))) (else (nop) (nop) (nop))))
      (func (export "block") (block (block (br 1)))))`);
    expect(wasmGas(code, "then")).toBe((8n + 4n) * OP_COST);
    expect(wasmGas(code, "else")).toBe((8n + 2n + 3n) * OP_COST);
    expect(wasmGas(code, "block")).toBe((8n + 1n) * OP_COST);
  });

  test("a call pays the call and the callee's frame", () => {
    const code = wat(`(module (memory 1)
      (func $g (param i64) (result i64) local.get 0)
      (func (export "f") (drop (call $g (i64.const 3)))))`);
    // f: frame 8 + i64.const, call, drop = 11; g: frame (64 + 8) / 8 = 9, local.get 1.
    expect(wasmGas(code, "f")).toBe((11n + 10n) * OP_COST);
  });

  test("host calls add their own costs", () => {
    const code = wat(`(module (import "env" "block_index" (func $bi (result i64))) (memory 1)
      (func (export "f") (drop (call $bi))))`);
    const out = run(code, "f");
    expect(out.aborted).toBeNull();
    expect(profileOf(out)).toEqual({
      BASE: BigInt(ext_costs.base),
      CONTRACT_LOADING_BASE: BigInt(ext_costs.contract_loading_base),
      CONTRACT_LOADING_BYTES: BigInt(ext_costs.contract_loading_bytes) * BigInt(code.length),
      WASM_INSTRUCTION: 10n * OP_COST,
    });
    expect(out.burntGas).toBe(loadingGas(code.length) + 10n * OP_COST + BigInt(ext_costs.base));
    expect(out.usedGas).toBe(out.burntGas);
  });

  test("the legacy env.gas import burns opcodes as wasm gas", () => {
    const code = wat(`(module (import "env" "gas" (func $gas (param i32))) (memory 1)
      (func (export "f") (call $gas (i32.const 1000))))`);
    // f: frame 8 + i32.const + call.
    expect(wasmGas(code, "f")).toBe((10n + 1000n) * OP_COST);
  });
});

describe("running out of gas", () => {
  const infinite = wat(`(module (memory 1) (func (export "spin") (loop $l (br $l))))`);

  test("past prepaid gas: GasExceeded, burnt gas is exactly the prepaid gas", () => {
    const prepaid = 5n * TGAS;
    const out = run(infinite, "spin", { prepaidGas: prepaid });
    expect(out.aborted).toEqual({
      view: { ExecutionError: "Exceeded the prepaid gas." },
      debug: "HostError(GasExceeded)",
    });
    expect(out.burntGas).toBe(prepaid);
    expect(out.usedGas).toBe(prepaid);
  });

  test("past max_gas_burnt in a view: GasLimitExceeded at the view limit", () => {
    const limit = 2n * TGAS;
    const out = run(infinite, "spin", { view: { maxGasBurnt: limit } });
    expect(out.aborted?.view).toEqual({
      ExecutionError: "Exceeded the maximum amount of gas allowed to burn per contract.",
    });
    expect(out.aborted?.debug).toBe("HostError(GasLimitExceeded)");
    expect(out.burntGas).toBe(limit);
  });

  test("contract loading alone can exceed the prepaid gas", () => {
    const out = run(infinite, "spin", { prepaidGas: 1000n });
    expect(out.aborted?.debug).toBe("HostError(GasExceeded)");
    expect(out.burntGas).toBe(1000n);
  });

  test("a host function that crosses the limit reports it", () => {
    const code = wat(`(module (import "env" "sha256" (func $h (param i64 i64 i64))) (memory 1)
      (func (export "f") (call $h (i64.const 1000) (i64.const 0) (i64.const 0))))`);
    const prepaid = loadingGas(code.length) + 10n * OP_COST + BigInt(ext_costs.sha256_base) - 1n;
    const out = run(code, "f", { prepaidGas: prepaid });
    expect(out.aborted?.debug).toBe("HostError(GasExceeded)");
    expect(out.burntGas).toBe(prepaid);
  });
});

describe("stack height limit", () => {
  // Each frame reserves 64 + 8 (the i64 parameter) bytes plus 16 bytes of operands: 88 bytes.
  // max_stack_height is 256 KiB: after the entry frame (80 bytes), 2977 such frames fit.
  const code = wat(`(module (import "env" "input" (func $input (param i64)))
    (import "env" "read_register" (func $rr (param i64 i64)))
    (memory 1)
    (func $down (param i64) (if (i64.ne (local.get 0) (i64.const 0))
      (then (call $down (i64.sub (local.get 0) (i64.const 1))))))
    (func (export "f") (call $input (i64.const 0)) (call $rr (i64.const 0) (i64.const 0))
      (call $down (i64.load (i32.const 0)))))`);
  const depth = (n: bigint) => {
    const input = new Uint8Array(8);
    new DataView(input.buffer).setBigUint64(0, n, true);
    return run(code, "f", { input }).aborted;
  };

  test("deep recursion within the limit runs; one frame more overflows", () => {
    // "f" itself takes one frame of 64 + 16 bytes.
    const fits = (262144n - 80n) / 88n;
    expect(depth(fits - 1n)).toBeNull();
    expect(depth(fits)).toEqual({
      view: { ExecutionError: "WebAssembly trap: Stack overflow." },
      debug: "WasmTrap(StackOverflow)",
    });
  });
});
