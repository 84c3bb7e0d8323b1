// What NEAR requires of the output: only `env` imports that are NEAR host functions, and
// nothing beyond WebAssembly MVP (nearcore's preparation rejects other features).
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, inject, it } from "vitest";
import wabtInit from "wabt";
import { checkImports } from "../src/imports.ts";
import { listImports } from "../src/wasm-imports.ts";

const NO_POST_MVP_FEATURES = {
  exceptions: false,
  mutable_globals: false,
  sat_float_to_int: false,
  sign_extension: false,
  simd: false,
  threads: false,
  function_references: false,
  multi_value: false,
  tail_call: false,
  bulk_memory: false,
  reference_types: false,
  annotations: false,
  code_metadata: false,
  gc: false,
  memory64: false,
  extended_const: false,
  relaxed_simd: false,
};

let wasm: Uint8Array;
beforeAll(() => {
  wasm = new Uint8Array(readFileSync(inject("probeWasm")));
});

async function validateMvp(bytes: Uint8Array): Promise<void> {
  const wabt = await wabtInit();
  const module = wabt.readWasm(bytes, { readDebugNames: false, ...NO_POST_MVP_FEATURES });
  try {
    module.validate();
  } finally {
    module.destroy();
  }
}

describe("imports", () => {
  it("imports only functions from env, including ed25519_verify", () => {
    const imports = listImports(wasm);
    expect(imports.length).toBeGreaterThan(20);
    expect(imports.filter((entry) => entry.module !== "env" || entry.kind !== "function")).toEqual(
      [],
    );
    const names = imports.map((entry) => entry.name);
    expect(names).toEqual(
      expect.arrayContaining(["ed25519_verify", "panic_utf8", "storage_write", "value_return"]),
    );
    expect(names.filter((name) => /^(fd_|proc_|clock_)/.test(name))).toEqual([]);
  });

  it("exports memory and one function per contract method plus NEP-330", () => {
    const module = new WebAssembly.Module(new Uint8Array(wasm));
    const exported = Object.keys(
      new WebAssembly.Instance(module, { env: new Proxy({}, { get: () => () => 0n }) }).exports,
    );
    expect(exported).toEqual(
      expect.arrayContaining([
        "memory",
        "set",
        "get",
        "add_u128",
        "on_result",
        "contract_source_metadata",
      ]),
    );
  });

  it("checkImports rejects a foreign module and an undeclared env function", async () => {
    const wabt = await wabtInit();
    const text = `(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "env" "mystery" (func)))`;
    const bytes = wabt.parseWat("bad.wat", text).toBinary({}).buffer;
    expect(() => checkImports(bytes, new Set(["storage_write"]))).toThrow(
      /wasi_snapshot_preview1\.fd_write \(only env imports are allowed\)[\s\S]*env\.mystery is not a declared NEAR host function/,
    );
  });
});

describe("MVP", () => {
  it("validates with every post-MVP feature disabled", async () => {
    await expect(validateMvp(wasm)).resolves.toBeUndefined();
  });

  it("the same validation rejects bulk memory and sign extension (what the lowering removes)", async () => {
    const wabt = await wabtInit();
    for (const body of [
      "(memory.fill (i32.const 0) (i32.const 0) (i32.const 1))",
      "(drop (i32.extend8_s (i32.const 1)))",
    ]) {
      const text = `(module (memory 1) (func ${body}))`;
      const bytes = wabt
        .parseWat("post-mvp.wat", text, { bulk_memory: true, sign_extension: true })
        .toBinary({}).buffer;
      await expect(validateMvp(bytes)).rejects.toThrow();
    }
  });
});
