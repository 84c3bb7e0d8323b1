import { describe, expect, test } from "vitest";
import { formatEvent } from "../src/event-format.ts";
import {
  requireAccountId,
  requireArray,
  requireEnum,
  requireHex,
  requireInt,
  requireObject,
  requireOnlyKeys,
  requirePage,
  requireText,
  requireUrl,
} from "../src/validate.ts";

describe("argument validation names the field at fault", () => {
  test("objects and unknown keys", () => {
    expect(requireObject({ a: 1 }, "args")).toEqual({ a: 1 });
    expect(() => requireObject([], "hardware")).toThrow("hardware: expected an object, got array");
    expect(() => requireObject(null, "hardware")).toThrow("got null");
    expect(() => requireOnlyKeys({ nmae: "x" }, "args", ["name"])).toThrow(
      'args: unknown field "nmae" (allowed: name)',
    );
  });

  test("text: length bounds and printable ASCII only", () => {
    expect(requireText("GPU Co", "name", 1, 64)).toBe("GPU Co");
    expect(() => requireText("", "name", 1, 64)).toThrow("name: length must be 1 to 64, got 0");
    expect(() => requireText("x".repeat(65), "name", 1, 64)).toThrow(/got 65/);
    expect(() => requireText("a\nb", "name", 1, 64)).toThrow(/printable ASCII/);
    expect(() => requireText(7, "name", 1, 64)).toThrow("name: expected a string, got number");
  });

  test("account ids follow nearcore's rules", () => {
    for (const ok of ["alice.near", "a-b_c.test.near", "0".repeat(64), "ab"]) {
      expect(requireAccountId(ok, "owner")).toBe(ok);
    }
    for (const bad of ["A.near", "a..near", "a", ".near", "near.", "a b", "x".repeat(65)]) {
      expect(() => requireAccountId(bad, "owner")).toThrow(/^owner: /);
    }
  });

  test("urls must be http(s) without whitespace", () => {
    expect(requireUrl("https://gpu.example.com:8443/v1", "endpoint", 256)).toBeTruthy();
    expect(requireUrl("http://127.0.0.1:3030", "endpoint", 256)).toBeTruthy();
    for (const bad of ["ftp://x.com", "https://", "https://a b.com", "javascript:alert(1)"]) {
      expect(() => requireUrl(bad, "endpoint", 256)).toThrow(/endpoint: .* is not an https/);
    }
  });

  test("integers, enums, arrays, hex", () => {
    expect(requireInt(3, "count", 1, 64)).toBe(3);
    expect(() => requireInt(1.5, "count", 1, 64)).toThrow("count: expected an integer, got number");
    expect(() => requireInt(65, "count", 1, 64)).toThrow("count: must be between 1 and 64, got 65");
    expect(requireEnum("tdx", "tee_type", ["tdx", "sev-snp"])).toBe("tdx");
    expect(() => requireEnum("sgx", "tee_type", ["tdx", "sev-snp"])).toThrow(
      'tee_type: expected one of tdx, sev-snp, got "sgx"',
    );
    expect(() => requireArray([], "gpus", 1, 16)).toThrow("gpus: expected 1 to 16 entries, got 0");
    expect(requireHex("ab".repeat(32), "evidence_hash", 32, 32)).toHaveLength(64);
    expect(() => requireHex("AB".repeat(32), "evidence_hash", 32, 32)).toThrow(/lowercase hex/);
    expect(() => requireHex("abc", "mrtd", 0, 48)).toThrow(/lowercase hex of whole bytes/);
  });

  test("pages default to the maximum and refuse larger limits", () => {
    expect(requirePage({}, 100)).toEqual({ from: 0, limit: 100 });
    expect(requirePage({ from_index: 5, limit: 10 }, 100)).toEqual({ from: 5, limit: 10 });
    expect(() => requirePage({ limit: 101 }, 100)).toThrow("limit: must be between 1 and 100");
    expect(() => requirePage({ from_index: -1 }, 100)).toThrow(/from_index/);
  });
});

describe("events", () => {
  test("NEP-297 line with the gpumarket standard and one data entry", () => {
    expect(formatEvent("dev_mode_set", { enabled: true })).toBe(
      'EVENT_JSON:{"standard":"gpumarket","version":"1.0.0","event":"dev_mode_set","data":[{"enabled":true}]}',
    );
  });
});
