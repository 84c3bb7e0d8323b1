// Pre-initialisation (src/preinit.ts, c/contract-entry.c): what the built contract looks
// like, that every call starts from the shipped memory image, that state classes restore
// through near-sdk-js's schema path (decodeObj2class with the cloneDeep replacement) inside
// the engine, and that a contract whose loading depends on a call fails the build, saying why.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { BuildFailures, buildContracts } from "../src/build.ts";
import { NEAR_INITIAL_MEMORY_PAGES, NEAR_MAX_MEMORY_PAGES } from "../src/flags.ts";
import { repoRoot } from "../src/paths.ts";
import { dataSegments, PREINIT_EXPORT } from "../src/preinit.ts";
import { silentProgress } from "../src/progress.ts";
import { NearHost, returnedJson } from "./near-host.ts";

describe("dataSegments", () => {
  it("leaves out zeros, splitting where 12 or more lie between non-zero bytes", () => {
    const image = new Uint8Array(100);
    image.set([1, 2], 3);
    image.set([3], 5 + 11); // 11 zeros between: same segment
    image.set([4, 0, 5], 17 + 12); // 12 zeros between: a new segment
    expect(dataSegments(image)).toEqual([
      { offset: 3, data: new Uint8Array([1, 2, ...new Array(11).fill(0), 3]) },
      { offset: 29, data: new Uint8Array([4, 0, 5]) },
    ]);
    expect(dataSegments(new Uint8Array(10))).toEqual([]);
    expect(dataSegments(new Uint8Array([7]))).toEqual([{ offset: 0, data: new Uint8Array([7]) }]);
  });
});

describe("the pre-initialised probe", () => {
  let exports: Record<string, unknown>;
  beforeAll(() => {
    const module = new WebAssembly.Module(new Uint8Array(readFileSync(inject("probeWasm"))));
    exports = new WebAssembly.Instance(module, { env: new Proxy({}, { get: () => () => 0n }) })
      .exports;
  });

  it("exports neither the pre-initialisation entry nor the word-wise copy and fill", () => {
    const names = Object.keys(exports);
    expect(names).toContain("get");
    expect(names).not.toContain(PREINIT_EXPORT);
    expect(names.filter((name) => name.startsWith("gpu_market_"))).toEqual([]);
  });

  it("declares NEAR's memory: the image was taken in that much", () => {
    const memory = exports.memory as WebAssembly.Memory;
    expect(memory.buffer.byteLength).toBe(NEAR_INITIAL_MEMORY_PAGES * 65536);
    expect(memory.grow(0)).toBe(NEAR_INITIAL_MEMORY_PAGES);
    expect(() => memory.grow(NEAR_MAX_MEMORY_PAGES - NEAR_INITIAL_MEMORY_PAGES + 1)).toThrow();
  });
});

// Contracts built for these tests in a folder of their own (as in build-errors.test.ts).
const root = mkdtempSync(path.join(tmpdir(), "toolchain-preinit-"));
symlinkSync(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeContract(name: string, source: string): void {
  const dir = path.join(root, "contracts", name);
  mkdirSync(path.join(dir, "src"), { recursive: true });
  const pkg = { name, version: "0.0.1", nearContract: { entry: "src/index.ts" } };
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
  writeFileSync(path.join(dir, "src", "index.ts"), source);
}

// State classes with a static schema, as in near-sdk-js's deserialisation tests: restored by
// decodeObj2class, which clones with the toolchain's cloneDeep.
const GARAGE = `import { call, NearBindgen, near, UnorderedMap, view } from "near-sdk-js";

class Car {
  static schema = { name: "string", speed: "number" };
  name = "";
  speed = 0;
  info(): string {
    return this.name + " at " + this.speed;
  }
}

class Truck {
  static schema = { name: "string", loads: UnorderedMap };
  name = "";
  loads = new UnorderedMap<string>("t");
  info(): string {
    return this.name + " with " + this.loads.length + " loads";
  }
}

// Module state: every call starts from the memory as loading left it.
let calls = 0;

@NearBindgen({})
export class Garage {
  static schema = {
    truck: Truck,
    cars: { class: UnorderedMap, value: Car },
    big: "bigint",
    when: "date",
  };
  truck = new Truck();
  cars = new UnorderedMap<Car>("c");
  big = 1n;
  when = new Date(0);

  @call({})
  set_truck({ name }: { name: string }): void {
    const truck = new Truck();
    truck.name = name;
    truck.loads = this.truck.loads;
    this.truck = truck;
  }

  @call({})
  add_load({ name, load }: { name: string; load: string }): void {
    this.truck.loads.set(name, load);
  }

  @call({})
  add_car({ owner, name, speed }: { owner: string; name: string; speed: number }): void {
    const car = new Car();
    car.name = name;
    car.speed = speed;
    this.cars.set(owner, car);
  }

  @call({})
  stamp({ big }: { big: string }): void {
    this.big = BigInt(big);
    this.when = new Date(Number(near.blockTimestamp() / 1_000_000n));
  }

  @view({})
  truck_info(): string {
    return this.truck.info();
  }

  @view({})
  car_info({ owner }: { owner: string }): string | null {
    const car = this.cars.get(owner);
    return car === null ? null : car.info();
  }

  @view({})
  stamped(): { big: string; when: string } {
    return { big: this.big.toString(), when: this.when.toISOString() };
  }

  @view({})
  count_calls(): number {
    calls += 1;
    return calls;
  }
}
`;

const HOST_CALL_AT_LOAD = `import { near } from "near-sdk-js";
const loadedAt = near.blockTimestamp();
export function loaded_at(): void {
  near.log(String(loadedAt));
}
`;

const THROWS_AT_LOAD = `import { near } from "near-sdk-js";
if (Math.max(1, 2) > 1) throw new Error("refusing to load");
export function f(): void {
  near.log("unreachable");
}
`;

describe("contracts built with pre-initialisation", () => {
  let garage: Uint8Array;
  let failures: BuildFailures;
  beforeAll(async () => {
    writeContract("garage", GARAGE);
    writeContract("hostcall", HOST_CALL_AT_LOAD);
    writeContract("throws", THROWS_AT_LOAD);
    const outDir = path.join(root, "out");
    const result = await buildContracts(["garage", "hostcall", "throws"], {
      root,
      outDir,
      progress: silentProgress(),
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!(result instanceof BuildFailures)) throw new Error(`expected failures, got ${result}`);
    failures = result;
    expect(failures.built.map((entry) => entry.name)).toEqual(["garage"]);
    garage = new Uint8Array(readFileSync(path.join(outDir, "garage.wasm")));
  }, 300_000);

  it("every call starts from the image: module state does not carry over", () => {
    const host = new NearHost(garage);
    expect(returnedJson(host.call("count_calls"))).toBe(1);
    expect(returnedJson(host.call("count_calls"))).toBe(1);
  });

  it("restores schema state classes, nested collections, bigint and Date between calls", () => {
    const host = new NearHost(garage);
    expect(host.call("set_truck", { name: "Mercedes-Benz" }).panic).toBeUndefined();
    expect(host.call("add_load", { name: "alice", load: "a box" }).panic).toBeUndefined();
    expect(host.call("add_load", { name: "bob", load: "a packet" }).panic).toBeUndefined();
    expect(host.call("add_car", { owner: "alice", name: "Kia", speed: 180 }).panic).toBeUndefined();
    expect(host.call("stamp", { big: (2n ** 100n).toString() }).panic).toBeUndefined();
    expect(returnedJson(host.call("truck_info"))).toBe("Mercedes-Benz with 2 loads");
    expect(returnedJson(host.call("car_info", { owner: "alice" }))).toBe("Kia at 180");
    expect(returnedJson(host.call("car_info", { owner: "bob" }))).toBeNull();
    expect(returnedJson(host.call("stamped"))).toEqual({
      big: (2n ** 100n).toString(),
      when: "2023-11-14T22:13:20.000Z",
    });
  });

  it("a top level that calls the NEAR host fails the build, naming the call", () => {
    const failure = failures.failures.find((f) => f.contract === "hostcall");
    expect(failure?.step).toBe("pre-initialise");
    expect(failure?.message).toMatch(
      /^contract hostcall: pre-initialise failed: the contract calls env\.block_timestamp while loading/,
    );
  });

  it("a top level that throws fails the build with the exception", () => {
    const failure = failures.failures.find((f) => f.contract === "throws");
    expect(failure?.step).toBe("pre-initialise");
    expect(failure?.message).toContain(
      "the contract aborted while loading: contract module threw: Error: refusing to load",
    );
  });
});
