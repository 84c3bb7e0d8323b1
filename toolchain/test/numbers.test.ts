// Number printing inside the engine. Our patch replaces QuickJS's FE_DOWNWARD/FE_UPWARD
// tie detection (WebAssembly only rounds to nearest): results must equal V8's.
import { readFileSync } from "node:fs";
import { beforeAll, expect, inject, it } from "vitest";
import { NearHost, returnedJson } from "./near-host.ts";

let host: NearHost;
beforeAll(() => {
  host = new NearHost(new Uint8Array(readFileSync(inject("probeWasm"))));
});

const CASES: Array<[number, number]> = [
  [2.5, 0], // exact tie: away from zero
  [-2.5, 0],
  [0.5, 0],
  [9.5, 0], // tie that carries into a new digit
  [0.125, 2],
  [-1.5, 0],
  [999.5, 0],
  [1.005, 2], // not a tie: 1.00499999999999989...
  [1 / 3, 5],
  [123.456, 1],
  [5e-7, 3],
  [1.25, 1],
  [1e21, 2],
  [2 ** 53 + 2, 0],
  [1.7976931348623157e308, 3],
  [0, 4],
];

it.each(CASES)("formats %d with %d digits as V8 does", (value, digits) => {
  expect(returnedJson(host.call("format_number", { value, digits }))).toEqual({
    fixed: value.toFixed(digits),
    precision: value.toPrecision(Math.max(digits, 1)),
    exponential: value.toExponential(digits),
    text: String(value),
  });
});
