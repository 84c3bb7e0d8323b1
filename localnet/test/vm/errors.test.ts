import { describe, expect, test } from "vitest";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { createRunner } from "../../src/vm/runner.ts";
import { context, loadingGas, MemoryExternal, run, wat } from "./helpers.ts";

const PANIC_IMPORTS = `
  (import "env" "panic" (func $panic))
  (import "env" "panic_utf8" (func $panic_utf8 (param i64 i64)))
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))`;

describe("method resolution", () => {
  const code = wat(`(module (memory 1) (func (export "f")) (func (export "g") (param i32)))`);

  test("an unknown method is a no-op outcome that burns nothing", () => {
    const out = run(code, "nope");
    expect(out.aborted).toEqual({
      view: { MethodResolveError: "MethodNotFound" },
      debug: "MethodResolveError(MethodNotFound)",
    });
    expect(out.burntGas).toBe(0n);
    expect(out.profile).toEqual([]);
  });

  test("an export with parameters has an invalid signature", () => {
    expect(run(code, "g").aborted?.view).toEqual({ MethodResolveError: "MethodInvalidSignature" });
  });

  test("an empty method name", () => {
    expect(run(code, "").aborted?.debug).toBe("MethodResolveError(MethodEmptyName)");
  });
});

describe("preparation", () => {
  const prepareError = (code: Uint8Array) => run(code, "f").aborted;

  test("bytes that are not wasm", () => {
    expect(prepareError(new Uint8Array([1, 2, 3]))).toEqual({
      view: { CompilationError: { PrepareError: "Deserialization" } },
      debug: "CompilationError(PrepareError(Deserialization))",
    });
  });

  test("imports outside env", () => {
    const code = wat(`(module (import "other" "f" (func)) (memory 1) (func (export "f")))`);
    expect(prepareError(code)?.view).toEqual({ CompilationError: { PrepareError: "Instantiate" } });
  });

  test("an imported memory", () => {
    const code = wat(`(module (import "env" "memory" (memory 1)) (func (export "f")))`);
    expect(prepareError(code)?.view).toEqual({ CompilationError: { PrepareError: "Memory" } });
  });

  test("imported globals and tables", () => {
    const g = wat(`(module (import "env" "g" (global i32)) (memory 1) (func (export "f")))`);
    expect(prepareError(g)?.view).toEqual({ CompilationError: { PrepareError: "Instantiate" } });
  });

  test("post-MVP instructions (bulk memory)", () => {
    const code = wat(`(module (memory 1) (func (export "f")
      (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))))`);
    expect(prepareError(code)?.view).toEqual({
      CompilationError: { PrepareError: "Deserialization" },
    });
  });

  test("sign extension is accepted", () => {
    const code = wat(
      `(module (memory 1) (func (export "f") (drop (i32.extend8_s (i32.const 255)))))`,
    );
    expect(prepareError(code)).toBeNull();
  });

  test("function and local limits", () => {
    const limits = {
      ...runtimeConfig.wasm_config.limit_config,
      max_functions_number_per_contract: 2,
      max_locals_per_contract: 3,
    };
    const config = {
      ...runtimeConfig,
      wasm_config: { ...runtimeConfig.wasm_config, limit_config: limits },
    };
    const runner = createRunner(config);
    const exec = (code: Uint8Array) =>
      runner({
        code,
        codeHash: code.slice(0, 32),
        methodName: "f",
        context: context(),
        ext: new MemoryExternal(),
      }).aborted;
    const threeFunctions = wat(
      `(module (import "env" "panic" (func)) (memory 1) (func (export "f")) (func))`,
    );
    expect(exec(threeFunctions)?.view).toEqual({
      CompilationError: { PrepareError: "TooManyFunctions" },
    });
    const fourLocals = wat(
      `(module (memory 1) (func (export "f") (local i32 i32) (local i64 i64)))`,
    );
    expect(exec(fourLocals)?.view).toEqual({ CompilationError: { PrepareError: "TooManyLocals" } });
  });

  test("the module's own memory is replaced by 1024..2048 pages", () => {
    const code = wat(`(module (memory 1 1) (func (export "f")
      (if (i32.ne (memory.size) (i32.const 1024)) (then unreachable))
      (if (i32.ne (memory.grow (i32.const 1024)) (i32.const 1024)) (then unreachable))
      (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))))`);
    expect(run(code, "f").aborted).toBeNull();
  });

  test("an unknown host function fails to link after loading is charged", () => {
    const code = wat(`(module (import "env" "no_such_fn" (func)) (memory 1) (func (export "f")))`);
    const out = run(code, "f");
    expect(out.aborted?.view).toEqual({
      ExecutionError:
        'Link Error: Error while importing "env"."no_such_fn": unknown import. Expected Function(FunctionType { params: [], results: [] })',
    });
    expect(out.burntGas).toBe(loadingGas(code.length));
  });

  test("a host function imported with the wrong signature fails to link", () => {
    const code = wat(
      `(module (import "env" "block_index" (func (param i32))) (memory 1) (func (export "f")))`,
    );
    expect(String(run(code, "f").aborted?.view.ExecutionError)).toContain(
      "incompatible import type",
    );
  });
});

describe("traps", () => {
  const code = wat(`(module (memory 1) (table 1 funcref)
    (func $rec (call $rec))
    (func (export "unreachable") unreachable)
    (func (export "oob") (drop (i32.load (i32.const -1))))
    (func (export "div") (drop (i32.div_u (i32.const 1) (i32.const 0))))
    (func (export "trunc") (drop (i32.trunc_f64_s (f64.const 1e100))))
    (func (export "null_call") (call_indirect (i32.const 0)))
    (func (export "table_oob") (call_indirect (i32.const 5)))
    (func (export "recurse") (call $rec)))`);
  const cases: [string, string, string][] = [
    ["unreachable", "Unreachable", "An `unreachable` opcode was executed."],
    ["oob", "MemoryOutOfBounds", "Memory out of bounds trap."],
    ["div", "IllegalArithmetic", "An arithmetic exception, e.g. divided by zero."],
    ["trunc", "IllegalArithmetic", "An arithmetic exception, e.g. divided by zero."],
    ["null_call", "IndirectCallToNull", "Indirect call to null."],
    ["table_oob", "MemoryOutOfBounds", "Memory out of bounds trap."],
    ["recurse", "StackOverflow", "Stack overflow."],
  ];
  for (const [method, kind, text] of cases) {
    test(`${method} -> WasmTrap(${kind})`, () => {
      const out = run(code, method);
      expect(out.aborted).toEqual({
        view: { ExecutionError: `WebAssembly trap: ${text}` },
        debug: `WasmTrap(${kind})`,
      });
      expect(out.burntGas).toBeGreaterThan(loadingGas(code.length));
    });
  }
});

describe("panics", () => {
  const code = wat(`(module ${PANIC_IMPORTS} (memory 1)
    (data (i32.const 8) "boom \\"quoted\\"\\n")
    (data (i32.const 100) "nul-terminated\\00")
    (data (i32.const 200) "\\ff\\fe")
    ;; AssemblyScript strings: u32 byte length, then UTF-16LE
    (data (i32.const 300) "\\04\\00\\00\\00h\\00i\\00")
    (data (i32.const 400) "\\08\\00\\00\\00a\\00.\\00t\\00s\\00")
    (func (export "panic") call $panic)
    (func (export "utf8") (call $panic_utf8 (i64.const 14) (i64.const 8)))
    (func (export "nul") (call $panic_utf8 (i64.const -1) (i64.const 100)))
    (func (export "bad_utf8") (call $panic_utf8 (i64.const 2) (i64.const 200)))
    (func (export "oob") (call $panic_utf8 (i64.const 10) (i64.const 70000000)))
    (func (export "abort") (call $abort (i32.const 304) (i32.const 404) (i32.const 7) (i32.const 9))))`);

  test("panic", () => {
    expect(run(code, "panic").aborted).toEqual({
      view: { ExecutionError: "Smart contract panicked: explicit guest panic" },
      debug: 'HostError(GuestPanic { panic_msg: "explicit guest panic" })',
    });
  });

  test("panic_utf8 keeps the message; Debug escapes it", () => {
    expect(run(code, "utf8").aborted).toEqual({
      view: { ExecutionError: 'Smart contract panicked: boom "quoted"\n' },
      debug: 'HostError(GuestPanic { panic_msg: "boom \\"quoted\\"\\n" })',
    });
    expect(run(code, "nul").aborted?.view).toEqual({
      ExecutionError: "Smart contract panicked: nul-terminated",
    });
  });

  test("bad UTF-8 and out-of-bounds messages", () => {
    expect(run(code, "bad_utf8").aborted).toEqual({
      view: { ExecutionError: "String encoding is bad UTF-8 sequence." },
      debug: "HostError(BadUTF8)",
    });
    expect(run(code, "oob").aborted).toEqual({
      view: { ExecutionError: "Accessed memory outside the bounds." },
      debug: "HostError(MemoryAccessViolation)",
    });
  });

  test("abort logs and panics with the AssemblyScript message", () => {
    const out = run(code, "abort");
    expect(out.aborted?.view).toEqual({
      ExecutionError: 'Smart contract panicked: hi, filename: "a.ts" line: 7 col: 9',
    });
    expect(out.logs).toEqual(['ABORT: hi, filename: "a.ts" line: 7 col: 9']);
  });
});
