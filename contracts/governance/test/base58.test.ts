import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { contractCodeHash, contractWasm } from "../../../sandbox-tests/src/contracts.ts";
import { encodeBase58 } from "../src/base58.ts";

describe("encodeBase58", () => {
  test("known vectors, leading zero bytes included", () => {
    expect(encodeBase58(new Uint8Array([]))).toBe("");
    expect(encodeBase58(new Uint8Array([0]))).toBe("1");
    expect(encodeBase58(new Uint8Array([0, 0, 1]))).toBe("112");
    expect(encodeBase58(new TextEncoder().encode("hello world"))).toBe("StV1DL6CwTryKyV");
    expect(encodeBase58(new Uint8Array([255, 255]))).toBe("LUv");
  });

  test("the sha256 of a built contract encodes to the code hash NEAR reports", () => {
    const digest = createHash("sha256")
      .update(readFileSync(contractWasm("registry")))
      .digest();
    expect(encodeBase58(digest)).toBe(contractCodeHash("registry"));
  });
});
