import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  asciiBytes,
  concatBytes,
  decodeBase58,
  decodeBase64,
  fromHex,
  toHex,
  u64LeBytes,
} from "../src/encoding.ts";

describe("hex", () => {
  test("round trips every byte value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    expect(hex).toBe(Buffer.from(all).toString("hex"));
    expect(fromHex(hex)).toEqual(all);
  });
});

describe("base64", () => {
  test.each([0, 1, 2, 3, 4, 5, 100, 1000])("decodes what Node encodes (%i bytes)", (size) => {
    const bytes = createHash("sha512").update(String(size)).digest();
    const data = Buffer.concat(Array.from({ length: Math.ceil(size / 64) + 1 }, () => bytes));
    const slice = data.subarray(0, size);
    expect(Buffer.from(decodeBase64(slice.toString("base64"), "evidence"))).toEqual(slice);
  });

  test("rejects a length that is not a multiple of 4", () => {
    expect(() => decodeBase64("abc", "evidence")).toThrow(/evidence: base64 length/);
  });

  test("rejects characters outside the standard alphabet, and padding in the middle", () => {
    expect(() => decodeBase64("ab-_", "evidence")).toThrow(/not a base64 character/);
    expect(() => decodeBase64("a=bcdefg", "evidence")).toThrow(/not a base64 character/);
  });
});

describe("base58", () => {
  test("decodes a NEAR ed25519 public key to its 32 bytes", () => {
    // The all-zero key is 32 '1's; 0x01 followed by zeros has a known encoding.
    expect(decodeBase58("11111111111111111111111111111111", "k")).toEqual(new Uint8Array(32));
    const bytes = new Uint8Array(32);
    bytes[31] = 0xff;
    bytes[0] = 0x01;
    expect(decodeBase58("4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziojk", "k")).toEqual(bytes);
  });

  test("rejects characters outside the alphabet (0, O, I, l)", () => {
    expect(() => decodeBase58("abc0", "machine_public_key")).toThrow(
      /machine_public_key: "0" is not a base58 character/,
    );
  });
});

describe("bytes", () => {
  test("ascii, concat and little-endian u64", () => {
    expect(concatBytes(asciiBytes("ab"), new Uint8Array([0]), asciiBytes("c"))).toEqual(
      new Uint8Array([97, 98, 0, 99]),
    );
    expect(u64LeBytes(0x0102030405060708n)).toEqual(new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]));
    expect(() => asciiBytes("é")).toThrow(/not ASCII/);
  });
});
