// The built probe contract, run in the test host: the engine, the host-function glue
// and the patches (u128, number printing) must behave as on NEAR.
import { readFileSync } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { NearHost, returnedJson } from "./near-host.ts";

const U128_MAX = (1n << 128n) - 1n;
const BUG_WITNESS = 27670116110564339769n; // came out as 27670169131935608889 before the libbf fix

let wasm: Uint8Array;
beforeAll(() => {
  wasm = new Uint8Array(readFileSync(inject("probeWasm")));
});

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

describe("storage", () => {
  it("round-trips a value through set and get", () => {
    const host = new NearHost(wasm);
    expect(host.call("set", { key: "greeting", value: "héllo ✓" }).panic).toBeUndefined();
    expect(host.storageGet("kv:greeting")).toBe("héllo ✓");
    expect(returnedJson(host.call("get", { key: "greeting" }))).toBe("héllo ✓");
    expect(returnedJson(host.call("get", { key: "missing" }))).toBeNull();
  });

  it("store_many writes count keys of the given size", () => {
    const host = new NearHost(wasm);
    expect(host.call("store_many", { count: 5, size: 100 }).panic).toBeUndefined();
    expect(host.storageGet("many:4")).toBe("x".repeat(100));
    expect(host.storageGet("many:5")).toBeUndefined();
  });

  it("rejects arguments of the wrong type with a message naming them", () => {
    const host = new NearHost(wasm);
    expect(host.call("set", { key: 1, value: "v" }).panic).toBe("key must be a string");
    expect(host.call("store_many", { count: -1, size: 1 }).panic).toBe(
      "count must be an integer from 0 to 100000",
    );
  });
});

describe("u128", () => {
  it("adds exactly, up to 2^128 - 1", () => {
    const host = new NearHost(wasm);
    expect(returnedJson(host.call("add_u128", { a: BUG_WITNESS.toString(), b: "0" }))).toBe(
      BUG_WITNESS.toString(),
    );
    expect(returnedJson(host.call("add_u128", { a: (U128_MAX - 1n).toString(), b: "1" }))).toBe(
      U128_MAX.toString(),
    );
    expect(
      returnedJson(host.call("add_u128", { a: U128_MAX.toString(), b: U128_MAX.toString() })),
    ).toBe((2n * U128_MAX).toString());
  });

  it("rejects amounts that are not decimal u128 strings", () => {
    const host = new NearHost(wasm);
    expect(host.call("add_u128", { a: "12x", b: "1" }).panic).toBe("a must be a decimal string");
    expect(host.call("add_u128", { a: "1", b: (U128_MAX + 1n).toString() }).panic).toBe(
      "b must be below 2^128",
    );
  });

  it.each([0n, 1n, BUG_WITNESS, (1n << 64n) - 1n, 1n << 64n, (1n << 127n) + 12345n, U128_MAX])(
    "reads attached deposit %s exactly (host -> BigInt)",
    (amount) => {
      const host = new NearHost(wasm);
      expect(returnedJson(host.call("deposit", {}, { attachedDeposit: amount }))).toBe(
        amount.toString(),
      );
    },
  );

  it.each([1n, BUG_WITNESS, (1n << 64n) - 1n, 1n << 64n, U128_MAX])(
    "passes transfer amount %s exactly (BigInt -> host)",
    (amount) => {
      const host = new NearHost(wasm);
      const outcome = host.call("transfer_to", {
        receiver: "bob.test.near",
        amount: amount.toString(),
      });
      expect(outcome.panic).toBeUndefined();
      expect(outcome.promises).toEqual([
        {
          index: 0,
          receiver: "bob.test.near",
          after: undefined,
          actions: [{ kind: "transfer", amount }],
        },
      ]);
      expect(outcome.returnedPromise).toBe(0);
    },
  );
});

describe("panics and events", () => {
  it("panic_with aborts with exactly the given message", () => {
    const host = new NearHost(wasm);
    const message = "escrow: job 42 is not accepted (état ✗)";
    const outcome = host.call("panic_with", { message });
    expect(outcome.panic).toBe(message);
    expect(outcome.returnValue).toBeUndefined();
  });

  it("a thrown Error panics with its message first", () => {
    const host = new NearHost(wasm);
    // `deposit` is payable; `set` is not, so near-sdk-js throws before running it.
    const outcome = host.call("set", { key: "k", value: "v" }, { attachedDeposit: 1n });
    expect(outcome.panic?.split("\n")[0]).toBe("Function is not payable");
  });

  it("log_event emits one NEP-297 event", () => {
    const host = new NearHost(wasm);
    const outcome = host.call("log_event", {
      name: "job_created",
      data: { id: "7", amount: U128_MAX.toString() },
    });
    expect(outcome.logs).toEqual([
      `EVENT_JSON:{"standard":"probe","version":"1.0.0","event":"job_created","data":[{"id":"7","amount":"${U128_MAX}"}]}`,
    ]);
  });
});

describe("ed25519_verify", () => {
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  const message = new TextEncoder().encode("job 42: result hash abc, usage 17");
  const signature = ed25519.sign(message, secretKey);

  it("accepts a valid signature", () => {
    const host = new NearHost(wasm);
    const args = { signature: hex(signature), message: hex(message), public_key: hex(publicKey) };
    expect(returnedJson(host.call("verify_ed25519", args))).toBe(true);
  });

  it("rejects a forged signature, another message and another key", () => {
    const host = new NearHost(wasm);
    const forged = signature.slice();
    forged[10] = (forged[10] as number) ^ 1;
    const otherKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const cases = [
      { signature: hex(forged), message: hex(message), public_key: hex(publicKey) },
      {
        signature: hex(signature),
        message: hex(new TextEncoder().encode("job 43")),
        public_key: hex(publicKey),
      },
      { signature: hex(signature), message: hex(message), public_key: hex(otherKey) },
    ];
    for (const args of cases) expect(returnedJson(host.call("verify_ed25519", args))).toBe(false);
  });

  it("the helper refuses a signature of the wrong length before calling the host", () => {
    const host = new NearHost(wasm);
    const args = {
      signature: hex(signature.slice(0, 63)),
      message: hex(message),
      public_key: hex(publicKey),
    };
    expect(host.call("verify_ed25519", args).panic?.split("\n")[0]).toBe(
      "ed25519 signature must be 64 bytes, got 63",
    );
  });
});

describe("promises and context", () => {
  it("function_call_weight passes the arguments as JSON bytes", () => {
    const host = new NearHost(wasm);
    const outcome = host.call("call_other", {
      account: "other.test.near",
      method: "get",
      args: { key: "a" },
      gas: "10000000000000",
      gas_weight: "1",
    });
    expect(outcome.panic).toBeUndefined();
    expect(outcome.promises[0]?.actions).toEqual([
      {
        kind: "function_call_weight",
        method: "get",
        args: '{"key":"a"}',
        amount: 0n,
        gas: 10_000_000_000_000n,
        weight: 1n,
      },
    ]);
  });

  it("call_other schedules the call, then the private on_result callback", () => {
    const host = new NearHost(wasm);
    const outcome = host.call("call_other", {
      account: "other.test.near",
      method: "get",
      args: { key: "a" },
      gas: "10000000000000",
      deposit: "5",
    });
    expect(outcome.panic).toBeUndefined();
    expect(outcome.promises).toEqual([
      {
        index: 0,
        receiver: "other.test.near",
        after: undefined,
        actions: [
          {
            kind: "function_call",
            method: "get",
            args: '{"key":"a"}',
            amount: 5n,
            gas: 10_000_000_000_000n,
          },
        ],
      },
      {
        index: 1,
        receiver: "probe.test.near",
        after: 0,
        actions: [
          {
            kind: "function_call",
            method: "on_result",
            args: "{}",
            amount: 0n,
            gas: 30_000_000_000_000n,
          },
        ],
      },
    ]);
    expect(outcome.returnedPromise).toBe(1);
  });

  it("on_result records success with the value, and failure", () => {
    const host = new NearHost(wasm);
    const self = { predecessorAccountId: "probe.test.near" };
    const ok = host.call(
      "on_result",
      {},
      { ...self, promiseResults: [{ success: true, value: Buffer.from('"b"') }] },
    );
    expect(returnedJson(ok)).toEqual({ success: true, value: '"b"' });
    expect(returnedJson(host.call("get_last_result"))).toEqual({ success: true, value: '"b"' });
    const failed = host.call("on_result", {}, { ...self, promiseResults: [{ success: false }] });
    expect(returnedJson(failed)).toEqual({ success: false, value: null });
    expect(returnedJson(host.call("get_last_result"))).toEqual({ success: false, value: null });
  });

  it("on_result is private", () => {
    const host = new NearHost(wasm);
    const outcome = host.call("on_result", {}, { promiseResults: [{ success: false }] });
    expect(outcome.panic?.split("\n")[0]).toBe("Function is private");
  });

  it("whoami and block_info read the call context (u64 as strings)", () => {
    const host = new NearHost(wasm);
    expect(
      returnedJson(host.call("whoami", {}, { predecessorAccountId: "agent.test.near" })),
    ).toEqual({
      current: "probe.test.near",
      predecessor: "agent.test.near",
      signer: "alice.test.near",
    });
    const info = {
      blockHeight: 123_456_789n,
      blockTimestamp: 1_761_000_000_123_456_789n,
      epochHeight: 42n,
    };
    expect(returnedJson(host.call("block_info", {}, info))).toEqual({
      height: "123456789",
      timestamp: "1761000000123456789",
      epoch: "42",
    });
  });

  it("burn_gas computes its loop", () => {
    const host = new NearHost(wasm);
    let acc = 0;
    for (let i = 0; i < 5000; i++) acc = (acc * 31 + i) % 1_000_000_007;
    expect(returnedJson(host.call("burn_gas", { iterations: 5000 }))).toBe(acc.toString());
  });
});

describe("NEP-330", () => {
  it("contract_source_metadata describes the build", () => {
    const host = new NearHost(wasm);
    expect(returnedJson(host.call("contract_source_metadata"))).toEqual({
      version: "1.0.0",
      link: null,
      standards: [{ standard: "nep330", version: "1.2.0" }],
      build_info: {
        build_environment: expect.stringContaining("near-sdk-js@2.0.0"),
        build_command: ["npm", "run", "build:contracts"],
        contract_path: "sandbox-tests/test-contracts/probe",
        source_code_snapshot: "",
        output_wasm_path: "build/contracts/probe.wasm",
      },
    });
  });
});
