// contract-lib/clone-deep.ts against lodash-es's cloneDeep, which near-sdk-js 2.0 imports and
// the bundle step replaces with it: the same clones of every kind of value, and the same
// state from near-sdk-js's decodeObj2class (the one user) on the state classes of
// near-sdk-js's own deserialisation tests (examples/src/status-deserialize-class.js).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloneDeep } from "../contract-lib/clone-deep.ts";
import { bundleContract } from "../src/bundle.ts";
import { packageDir } from "../src/paths.ts";

const sdkRequire = createRequire(path.join(packageDir("near-sdk-js"), "package.json"));
let lodashCloneDeep: <T>(value: T) => T;
beforeAll(async () => {
  const url = pathToFileURL(sdkRequire.resolve("lodash-es/cloneDeep.js")).href;
  lodashCloneDeep = ((await import(url)) as { default: <T>(value: T) => T }).default;
});

class Point {
  x: number;
  y: number;
  constructor(x: number, y: number) {
    this.x = x;
    this.y = y;
  }
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
  get twice(): number {
    return 2 * this.x;
  }
}
class Tagged {
  value = 1;
}
Object.defineProperty(Tagged.prototype, Symbol.toStringTag, { value: "Tagged", writable: true });
class Labelled {
  value = 2;
  get [Symbol.toStringTag](): string {
    return "Labelled";
  }
}
class List extends Array<number> {}

function named(): string {
  return "named";
}
named.extra = { deep: [1, 2] };

const symbolKey = Symbol("key");
const hiddenSymbol = Symbol("hidden");

/** Values of every kind lodash's cloneDeep distinguishes, named for the failure message. */
function cases(): Array<[string, unknown]> {
  const withSymbols: Record<PropertyKey, unknown> = { plain: 1, [symbolKey]: { inner: true } };
  Object.defineProperty(withSymbols, hiddenSymbol, { value: 2, enumerable: false });
  const nullProto = Object.assign(Object.create(null) as object, { a: 1, b: { c: 2 } });
  const protoKey = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as unknown;
  const regexp = /a(b)+c/gi;
  regexp.lastIndex = 3;
  const match = /b(c)/.exec("abcd");
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const shared = { shared: true };
  const cyclic: Record<string, unknown> = { name: "cycle" };
  cyclic.self = cyclic;
  cyclic.list = [cyclic, shared, shared];
  const sparse = [1, 2, 3];
  delete sparse[1]; // a hole
  const list = List.from([1, 2, 3]);
  const error = new Error("kept");
  const weak = new WeakMap();
  return [
    ["numbers and strings", [0, -0, Number.NaN, 1.5, "s", "", true, null, undefined]],
    ["bigint", { amount: 10n ** 30n, list: [1n, -2n] }],
    ["symbol value", { s: symbolKey }],
    ["nested plain objects", { a: { b: { c: [1, { d: "e" }] } }, f: [] }],
    ["class instance", { p: new Point(3, 4) }],
    ["class instance at the top", new Point(1, 2)],
    ["sparse array", sparse],
    ["array subclass", { list }],
    ["regexp match array", match],
    ["Date", { when: new Date(1_700_000_000_000), bad: new Date(Number.NaN) }],
    ["RegExp", { regexp }],
    [
      "Map",
      new Map<unknown, unknown>([
        ["k", { v: 1 }],
        [shared, [shared]],
      ]),
    ],
    ["Set", new Set<unknown>([1, "two", { three: 3 }])],
    ["typed arrays", { bytes, view: bytes.subarray(2, 5), floats: new Float64Array([0.5, -1]) }],
    ["ArrayBuffer and DataView", { buffer: bytes.buffer, view: new DataView(bytes.buffer, 1, 4) }],
    ["boxed primitives", [Object(true), Object(5), Object("str"), Object(symbolKey)]],
    ["functions inside a value", { f: named, g: () => 1, async: async () => 1 }],
    ["a function at the top", named],
    ["an arrow function at the top", () => 1],
    ["an async function at the top", async () => 1],
    ["errors and weak maps inside a value", { error, weak }],
    ["an error at the top", error],
    ["a WeakMap at the top", weak],
    ["symbol keys", withSymbols],
    ["null prototype", nullProto],
    ["an own __proto__ key", protoKey],
    ["a prototype object", Point.prototype],
    ["a writable Symbol.toStringTag", new Tagged()],
    ["a getter Symbol.toStringTag", { labelled: new Labelled() }],
    ["cycles and shared values", cyclic],
  ];
}

describe("cloneDeep, like lodash's", () => {
  for (const [name, value] of cases()) {
    it(name, () => {
      const ours = cloneDeep(value);
      const theirs = lodashCloneDeep(value);
      expect(ours).toStrictEqual(theirs);
      if (value !== null && typeof value === "object") {
        expect(ours).not.toBe(value);
        expect(Object.getPrototypeOf(ours)).toBe(Object.getPrototypeOf(theirs));
      }
    });
  }

  it("keeps prototypes (methods and getters work), copies deeply and keeps functions", () => {
    const source = { p: new Point(3, 4), f: named, list: [new Point(0, 1)] };
    const clone = cloneDeep(source);
    expect(clone.p).toBeInstanceOf(Point);
    expect(clone.p.norm()).toBe(5);
    expect(clone.p.twice).toBe(6);
    expect(clone.p).not.toBe(source.p);
    expect(clone.list[0]).not.toBe(source.list[0]);
    expect(clone.f).toBe(named);
    clone.p.x = 100;
    expect(source.p.x).toBe(3);
  });

  it("clones a value met twice once, and follows cycles", () => {
    const shared = { n: 1 };
    const value: Record<string, unknown> = { a: shared, b: [shared] };
    value.self = value;
    const clone = cloneDeep(value) as typeof value & { b: unknown[] };
    expect(clone.a).not.toBe(shared);
    expect(clone.b[0]).toBe(clone.a);
    expect(clone.self).toBe(clone);
  });

  it("copies the whole buffer under a typed array view, and Map keys by reference", () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const view = cloneDeep(bytes.subarray(1, 3));
    expect([...view]).toEqual([2, 3]);
    expect(view.byteOffset).toBe(1);
    expect(view.buffer).not.toBe(bytes.buffer);
    const key = { k: 1 };
    const map = cloneDeep(new Map([[key, { v: 1 }]]));
    expect([...map.keys()][0]).toBe(key);
  });
});

// near-sdk-js's decodeObj2class, bundled with lodash (as near-sdk-js ships) and through the
// toolchain's bundle step (with the replacement), run on the same state.
type Sdk = {
  decodeObj2class(instance: object, plain: unknown): Record<string, unknown>;
  UnorderedMap: new (prefix: string) => object;
  LookupMap: new (prefix: string) => object;
  Vector: new (prefix: string) => object;
  UnorderedSet: new (prefix: string) => object;
};

const ENTRY = path.join(import.meta.dirname, "fixtures", "sdk-decode-entry.js");

let workDir: string;
let withLodash: Sdk;
let withReplacement: Sdk;

async function loadBundle(code: string, name: string): Promise<Sdk> {
  const file = path.join(workDir, name);
  writeFileSync(file, code);
  return (await import(pathToFileURL(file).href)) as Sdk;
}

type Rollup = {
  rollup(options: { input: string; plugins: unknown[] }): Promise<{
    generate(options: { format: "es" }): Promise<{ output: [{ code: string }] }>;
  }>;
};

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), "clone-deep-"));
  const replaced = (await bundleContract(ENTRY)).code;
  // The bundle step's replacement, not lodash (its baseClone), is what the contract gets.
  expect(replaced).toContain("function rawTag(");
  expect(replaced).not.toContain("baseClone");
  withReplacement = await loadBundle(replaced, "replacement.mjs");
  const rollup = (await import(pathToFileURL(sdkRequire.resolve("rollup")).href)) as Rollup;
  const { nodeResolve } = (await import(
    pathToFileURL(sdkRequire.resolve("@rollup/plugin-node-resolve")).href
  )) as { nodeResolve(): unknown };
  const build = await rollup.rollup({ input: ENTRY, plugins: [nodeResolve()] });
  const { output } = await build.generate({ format: "es" });
  withLodash = await loadBundle(output[0].code, "lodash.mjs");
}, 120_000);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** The state classes of near-sdk-js's examples/src/status-deserialize-class.js. */
function stateClasses(sdk: Sdk) {
  const { UnorderedMap, LookupMap, Vector, UnorderedSet } = sdk;
  class Car {
    static schema = { name: "string", speed: "number" };
    name = "";
    speed = 0;
    info(): string {
      return `${this.name} run with speed ${this.speed}`;
    }
  }
  class Truck {
    static schema = { name: "string", speed: "number", loads: UnorderedMap };
    name = "";
    speed = 0;
    loads = new UnorderedMap("tra");
    info(): string {
      return `${this.name} run with speed ${this.speed}`;
    }
  }
  class Status {
    static schema = {
      truck: Truck,
      efficient_recordes: UnorderedMap,
      nested_efficient_recordes: { class: UnorderedMap, value: UnorderedMap },
      nested_lookup_recordes: { class: UnorderedMap, value: LookupMap },
      vector_nested_group: { class: Vector, value: LookupMap },
      lookup_nest_vec: { class: LookupMap, value: Vector },
      unordered_set: UnorderedSet,
      user_car_map: { class: UnorderedMap, value: Car },
      big_num: "bigint",
      date: "date",
    };
    is_inited = false;
    records: Record<string, string> = {};
    truck = new Truck();
    messages: string[] = [];
    efficient_recordes = new UnorderedMap("a");
    nested_efficient_recordes = new UnorderedMap("b");
    nested_lookup_recordes = new UnorderedMap("c");
    vector_nested_group = new Vector("d");
    lookup_nest_vec = new LookupMap("e");
    unordered_set = new UnorderedSet("f");
    user_car_map = new UnorderedMap("g");
    big_num = 1n;
    date = new Date(0);
    message_without_schema_defined = "";
    number_without_schema_defined = 0;
    records_without_schema_defined: Record<string, string> = {};
  }
  return { Car, Truck, Status };
}

/** What near-sdk-js's deserialize(serialize(state)) gives, without the host's UTF-8 calls. */
function storedState(state: object): unknown {
  const json = JSON.stringify(state, function (this: Record<string, unknown>, key, value) {
    if (typeof value === "bigint") return { value: value.toString(), typeInfo: "bigint" };
    if (this[key] instanceof Date)
      return { value: (this[key] as Date).toISOString(), typeInfo: "date" };
    return value;
  });
  return JSON.parse(json, (_key, value) => {
    if (value !== null && typeof value === "object" && Object.keys(value).length === 2) {
      if (value.typeInfo === "bigint") return BigInt(value.value);
      if (value.typeInfo === "date") return new Date(value.value);
    }
    return value;
  });
}

/** A description of a value that names classes instead of comparing their identity. */
function describeValue(value: unknown, seen = new Set<unknown>()): unknown {
  if (typeof value === "function") {
    const fn = value as () => unknown;
    return fn.length === 0 && fn.name === "" ? { returns: describeValue(fn(), seen) } : fn.name;
  }
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return { date: value.toISOString() };
  if (seen.has(value)) return "(seen)";
  seen.add(value);
  const own: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    own[key] = describeValue((value as Record<string, unknown>)[key], seen);
  return { class: value.constructor?.name, own };
}

describe("decodeObj2class with the replacement, like near-sdk-js's with lodash", () => {
  function decode(sdk: Sdk) {
    const { Car, Truck, Status } = stateClasses(sdk);
    const saved = new Status();
    saved.is_inited = true;
    saved.records = { "alice.near": "hello" };
    saved.truck.name = "Mercedes-Benz";
    saved.truck.speed = 240;
    saved.messages = ["Hello", "World"];
    saved.big_num = 10n;
    saved.date = new Date("2023-08-19T23:15:30.000Z");
    saved.message_without_schema_defined = "Hello world!";
    saved.number_without_schema_defined = 100;
    saved.records_without_schema_defined = { "bob.near": "hi" };
    const plain = storedState(saved) as Record<string, unknown>;
    const state = sdk.decodeObj2class(new Status(), plain) as unknown as InstanceType<
      typeof Status
    >;
    return { state, plain, Car, Truck };
  }

  it("restores the same state: classes, collections with their subtypes, bigint, Date", () => {
    const ours = decode(withReplacement).state;
    const theirs = decode(withLodash).state;
    expect(describeValue(ours)).toEqual(describeValue(theirs));
  });

  it("gives class instances whose methods work and fields that are not the stored objects", () => {
    const { state, plain, Car, Truck } = decode(withReplacement);
    expect(state.truck).toBeInstanceOf(Truck);
    expect(state.truck.info()).toBe("Mercedes-Benz run with speed 240");
    expect(state.truck.loads).toBeInstanceOf(withReplacement.UnorderedMap);
    expect(state.user_car_map).toBeInstanceOf(withReplacement.UnorderedMap);
    expect((state.user_car_map as { subtype(): unknown }).subtype()).toBe(Car);
    expect(state.vector_nested_group).toBeInstanceOf(withReplacement.Vector);
    expect(state.unordered_set).toBeInstanceOf(withReplacement.UnorderedSet);
    expect(state.big_num).toBe(10n);
    expect(state.date).toEqual(new Date("2023-08-19T23:15:30.000Z"));
    expect(state.messages).toEqual(["Hello", "World"]);
    expect(state.messages).not.toBe(plain.messages);
    expect(state.records).not.toBe(plain.records);
    expect(state.truck).not.toBe(plain.truck);
  });
});
