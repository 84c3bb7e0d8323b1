// Small pieces of the toolchain: hashes, patches, the WASI stub, contract discovery.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import wabtInit from "wabt";
import { discoverContracts } from "../src/discover.ts";
import { base58, sha256 } from "../src/hash.ts";
import { applyPatches } from "../src/quickjs/patches.ts";
import { stubWasiImports } from "../src/wasi-stub.ts";
import { listImports } from "../src/wasm-imports.ts";

describe("hashes", () => {
  it("base58 matches known vectors, keeping leading zero bytes as 1s", () => {
    expect(base58(new TextEncoder().encode("Hello World!"))).toBe("2NEpo7TZRRrLZSi2U");
    expect(base58(new Uint8Array([0, 0, 1]))).toBe("112");
    expect(base58(new Uint8Array([]))).toBe("");
  });

  it("a code hash is 32 bytes of sha256 in base58", () => {
    expect(Buffer.from(sha256("abc")).toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(base58(sha256("abc"))).toBe("DYu3G8aGTMBW1WrTw76zxQJQU4DHLw9MLyy7peG4LKkY");
  });
});

describe("patches", () => {
  const patch = { file: "a.c", why: "test", find: "int x = 1;", replace: "int x = 2;" };

  it("replaces the expected text", () => {
    expect(applyPatches("a.c", "int x = 1;\n", [patch])).toBe("int x = 2;\n");
    expect(applyPatches("b.c", "int x = 1;\n", [patch])).toBe("int x = 1;\n");
  });

  it("stops when the text is not there exactly as often as expected", () => {
    expect(() => applyPatches("a.c", "int x = 3;\n", [patch])).toThrow(
      /expects 1 match\(es\) in a\.c, found 0/,
    );
    expect(() => applyPatches("a.c", "int x = 1;int x = 1;", [patch])).toThrow(/found 2/);
  });
});

describe("wasi-stub", () => {
  it("turns WASI imports into local functions returning 76 or nothing", async () => {
    const wabt = await wabtInit();
    const text = `(module
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "log_utf8" (func $log (param i64 i64)))
      (func (export "f") (result i32)
        (call $exit (i32.const 0))
        (call $write (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))`;
    const stubbed = stubWasiImports(wabt.parseWat("wasi.wat", text).toBinary({}).buffer);
    expect(listImports(stubbed)).toEqual([{ module: "env", name: "log_utf8", kind: "function" }]);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(stubbed)), {
      env: { log_utf8: () => {} },
    });
    expect((instance.exports.f as () => number)()).toBe(76);
  });
});

describe("discovery", () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function writeContract(dir: string, pkg: unknown): void {
    mkdirSync(path.join(root, dir, "src"), { recursive: true });
    writeFileSync(path.join(root, dir, "package.json"), JSON.stringify(pkg));
    writeFileSync(path.join(root, dir, "src", "index.ts"), "");
  }

  it("finds contracts with a nearContract field, skipping contracts/common and plain packages", () => {
    root = mkdtempSync(path.join(tmpdir(), "discover-"));
    const near = { entry: "src/index.ts", standards: [{ standard: "nep171", version: "1.0.0" }] };
    writeContract("contracts/registry", {
      version: "0.2.0",
      nearContract: near,
      repository: { url: "https://x.test/r" },
    });
    writeContract("contracts/common", { version: "0.1.0", nearContract: near });
    writeContract("contracts/tools", { version: "0.1.0" });
    writeContract("sandbox-tests/test-contracts/probe", {
      version: "1.0.0",
      nearContract: { entry: "src/index.ts" },
    });
    expect(
      discoverContracts(root).contracts.map((c) => [
        c.name,
        c.version,
        c.relativeDir,
        c.standards,
        c.link,
      ]),
    ).toEqual([
      ["probe", "1.0.0", "sandbox-tests/test-contracts/probe", [], null],
      [
        "registry",
        "0.2.0",
        "contracts/registry",
        [{ standard: "nep171", version: "1.0.0" }],
        "https://x.test/r",
      ],
    ]);
    expect(discoverContracts(root).invalid).toEqual([]);
  });

  it("names the package.json and the problem when nearContract is wrong", () => {
    root = mkdtempSync(path.join(tmpdir(), "discover-"));
    writeContract("contracts/escrow", {
      version: "0.1.0",
      nearContract: { entry: "src/missing.ts" },
    });
    const { contracts, invalid } = discoverContracts(root);
    expect(contracts).toEqual([]);
    expect(invalid).toEqual([
      {
        name: "escrow",
        problem: expect.stringMatching(
          /contracts\/escrow\/package\.json: nearContract\.entry src\/missing\.ts does not exist$/,
        ),
      },
    ]);
  });
});
