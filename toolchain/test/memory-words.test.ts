// The engine's word-wise memcpy/memmove/memset (c/memory-words.c) against a byte-by-byte
// reference over sizes, alignments and overlaps, and the optimise step pointing wasm-opt's
// lowered memory.copy/memory.fill at them.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import wabtInit from "wabt";
import { COPY_EXPORT, FILL_EXPORT } from "../src/bulk-memory.ts";
import { clang, fileAt } from "../src/clang.ts";
import { COMPILE_FLAGS } from "../src/flags.ts";
import { lowerAndOptimise } from "../src/optimise.ts";
import { cSourcesDir } from "../src/paths.ts";

type MemoryFunctions = {
  memory: WebAssembly.Memory;
  memcpy(dest: number, src: number, n: number): number;
  memmove(dest: number, src: number, n: number): number;
  memset(dest: number, value: number, n: number): number;
};

const SIZES = [...Array.from({ length: 80 }, (_, n) => n), 127, 128, 129, 255, 256, 1000, 4099];
const AREA = 8192; // where the tests copy, far from the module's own data
const AREA_SIZE = 16384;

let fns: MemoryFunctions;
beforeAll(async () => {
  const source = readFileSync(path.join(cSourcesDir, "memory-words.c"), "utf8");
  const flags = ["-nostartfiles", "-Wl,--no-entry", "-Wl,-z,stack-size=4096"];
  const exports = ["memcpy", "memmove", "memset"].map((name) => `-Wl,--export=${name}`);
  const tree = await clang(
    [...COMPILE_FLAGS, ...flags, ...exports, "src/memory-words.c", "-o", "words.wasm"],
    { src: { "memory-words.c": source } },
  );
  const module = new WebAssembly.Module(new Uint8Array(fileAt(tree, "words.wasm")));
  fns = new WebAssembly.Instance(module, {}).exports as unknown as MemoryFunctions;
  expect(fns.memory.buffer.byteLength).toBeGreaterThanOrEqual(AREA + AREA_SIZE);
}, 120_000);

/** The test area filled with a pattern no copy of itself reproduces by accident. */
function fillPattern(): Uint8Array {
  const area = new Uint8Array(fns.memory.buffer, AREA, AREA_SIZE);
  for (let i = 0; i < area.length; i++) area[i] = (i * 7 + 13) & 0xff;
  return area;
}

function expectArea(expected: Uint8Array, what: string): void {
  const actual = new Uint8Array(fns.memory.buffer, AREA, AREA_SIZE);
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  expect(first, `${what}: first differing byte`).toBe(-1);
}

describe("memcpy", () => {
  it("copies every size at every source and destination alignment, touching nothing else", () => {
    for (const n of SIZES) {
      for (let srcAlign = 0; srcAlign < 8; srcAlign++) {
        for (let destAlign = 0; destAlign < 8; destAlign++) {
          const area = fillPattern();
          const src = 64 + srcAlign;
          const dest = 8192 + destAlign;
          const expected = area.slice();
          expected.copyWithin(dest, src, src + n);
          expect(fns.memcpy(AREA + dest, AREA + src, n)).toBe(AREA + dest);
          expectArea(expected, `memcpy n=${n} src+${srcAlign} dest+${destAlign}`);
        }
      }
    }
  });
});

describe("memmove", () => {
  it("copies overlapping regions either way, as if through a buffer", () => {
    for (const n of SIZES.filter((size) => size <= 1000)) {
      for (let shift = -40; shift <= 40; shift++) {
        for (const start of [2000, 2003]) {
          const area = fillPattern();
          const expected = area.slice();
          expected.copyWithin(start + shift, start, start + n);
          expect(fns.memmove(AREA + start + shift, AREA + start, n)).toBe(AREA + start + shift);
          expectArea(expected, `memmove n=${n} shift=${shift} start=${start}`);
        }
      }
    }
  });

  it("copies far-apart regions in both directions", () => {
    for (const [dest, src] of [
      [100, 9000],
      [9000, 100],
    ] as const) {
      const area = fillPattern();
      const expected = area.slice();
      expected.copyWithin(dest, src, src + 4099);
      fns.memmove(AREA + dest, AREA + src, 4099);
      expectArea(expected, `memmove ${src} -> ${dest}`);
    }
  });
});

describe("memset", () => {
  it("fills every size at every alignment with the value's low byte", () => {
    for (const n of SIZES) {
      for (let align = 0; align < 8; align++) {
        for (const value of [0, 0x5a, 0x80, 0xff, 0x1ab, -1]) {
          const area = fillPattern();
          const expected = area.slice();
          expected.fill(value & 0xff, 100 + align, 100 + align + n);
          expect(fns.memset(AREA + 100 + align, value, n)).toBe(AREA + 100 + align);
          expectArea(expected, `memset n=${n} +${align} value=${value}`);
        }
      }
    }
  });
});

describe("lowered memory.copy / memory.fill", () => {
  // A module that uses both bulk-memory instructions and exports stand-ins for the engine's
  // word-wise functions that count their calls (at address 0) before doing the work.
  const WAT = `(module
    (memory (export "memory") 1)
    (func (export "${COPY_EXPORT}") (param i32 i32 i32)
      (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get 2)))
        (local.set 2 (i32.sub (local.get 2) (i32.const 1)))
        (i32.store8 (i32.add (local.get 0) (local.get 2))
          (i32.load8_u (i32.add (local.get 1) (local.get 2))))
        (br $next))))
    (func (export "${FILL_EXPORT}") (param i32 i32 i32)
      (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1)))
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get 2)))
        (local.set 2 (i32.sub (local.get 2) (i32.const 1)))
        (i32.store8 (i32.add (local.get 0) (local.get 2)) (local.get 1))
        (br $next))))
    (func (export "copy") (param i32 i32 i32)
      (memory.copy (local.get 0) (local.get 1) (local.get 2)))
    (func (export "fill") (param i32 i32 i32)
      (memory.fill (local.get 0) (local.get 1) (local.get 2))))`;

  it("become calls to the word-wise functions, whose exports are removed; the output is MVP", async () => {
    const wabt = await wabtInit();
    const input = wabt.parseWat("bulk.wat", WAT, { bulk_memory: true }).toBinary({}).buffer;
    const output = await lowerAndOptimise(input);
    const mvp = wabt.readWasm(output, {
      readDebugNames: false,
      bulk_memory: false,
      sign_extension: false,
      sat_float_to_int: false,
    });
    try {
      mvp.validate();
    } finally {
      mvp.destroy();
    }
    const exports = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(output)), {})
      .exports as Record<string, unknown>;
    expect(Object.keys(exports).sort()).toEqual(["copy", "fill", "memory"]);
    const memory = new Uint8Array((exports.memory as WebAssembly.Memory).buffer);
    memory.set([1, 2, 3, 4, 5], 100);
    (exports.copy as (d: number, s: number, n: number) => void)(200, 100, 5);
    (exports.fill as (d: number, v: number, n: number) => void)(300, 9, 3);
    expect([...memory.subarray(200, 205)]).toEqual([1, 2, 3, 4, 5]);
    expect([...memory.subarray(300, 304)]).toEqual([9, 9, 9, 0]);
    const counts = new Uint32Array(memory.buffer, 0, 2);
    expect([...counts]).toEqual([1, 1]);
  });
});
