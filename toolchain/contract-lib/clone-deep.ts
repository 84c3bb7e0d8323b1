// lodash's cloneDeep, for contracts: near-sdk-js 2.0 imports it from lodash-es for
// decodeObj2class (state classes with a static schema), which pulls 54 KB of lodash into
// every contract. The toolchain's bundle step resolves near-sdk-js's "lodash-es" here.
// Same results as lodash-es 4.17 cloneDeep (toolchain/test/clone-deep.test.ts compares them):
// - primitives (bigint included) are returned as they are;
// - arrays: a new array of the same constructor and length, every index cloned (holes become
//   undefined), plus `index` and `input` of a RegExp match;
// - plain objects and class instances: a new object with the same prototype (a plain object
//   when the value has no constructor function, or is a prototype itself), then every own
//   enumerable string key and enumerable symbol cloned;
// - Map, Set (entries cloned, keys kept), Date, RegExp (lastIndex kept), ArrayBuffer,
//   DataView and typed arrays (over a copy of the whole buffer), Boolean/Number/String/Symbol
//   objects: a new one of the same constructor, then own enumerable keys as for objects;
// - functions, errors, WeakMaps and anything else: the same reference inside a value, {} at
//   the top;
// - a value met twice (cycles included) is cloned once.

type Clones = Map<object, unknown>;
type Keyed = Record<PropertyKey, unknown>;

const objectToString = Object.prototype.toString;
const hasOwn = Object.prototype.hasOwnProperty;

const TYPED_ARRAY_TAGS = new Set([
  "[object Float32Array]",
  "[object Float64Array]",
  "[object Int8Array]",
  "[object Int16Array]",
  "[object Int32Array]",
  "[object Uint8Array]",
  "[object Uint8ClampedArray]",
  "[object Uint16Array]",
  "[object Uint32Array]",
]);

/** The built-in tag, as lodash reads it: a writable Symbol.toStringTag is looked past. */
function rawTag(value: Keyed): string {
  const toStringTag = Symbol.toStringTag;
  if (!(toStringTag in value)) return objectToString.call(value);
  const own = hasOwn.call(value, toStringTag);
  const tag = value[toStringTag];
  let unmasked = false;
  try {
    value[toStringTag] = undefined;
    unmasked = true;
  } catch {
    // A getter or a read-only tag: the tag stands.
  }
  const result = objectToString.call(value);
  if (unmasked) {
    if (own) value[toStringTag] = tag;
    else delete value[toStringTag];
  }
  return result;
}

function isPrototype(value: Keyed): boolean {
  const ctor = value.constructor;
  const proto = (typeof ctor === "function" && ctor.prototype) || Object.prototype;
  return value === proto;
}

type Ctor = new (...args: unknown[]) => unknown;

/** lodash's initCloneObject: the same prototype, unless the value has no constructor function. */
function emptyObject(value: Keyed): Keyed {
  if (typeof value.constructor !== "function" || isPrototype(value)) return {};
  const proto = Object.getPrototypeOf(value);
  return proto !== null && (typeof proto === "object" || typeof proto === "function")
    ? Object.create(proto)
    : {};
}

function cloneBuffer(buffer: ArrayBuffer): ArrayBuffer {
  const copy = new (buffer.constructor as new (length: number) => ArrayBuffer)(buffer.byteLength);
  new Uint8Array(copy).set(new Uint8Array(buffer));
  return copy;
}

/** lodash's initCloneByTag: the new, still empty clone; undefined when not cloneable. */
function emptyClone(value: Keyed, tag: string): Keyed | undefined {
  const ctor = value.constructor as Ctor;
  switch (tag) {
    case "[object ArrayBuffer]":
      return cloneBuffer(value as unknown as ArrayBuffer) as unknown as Keyed;
    case "[object DataView]": {
      const view = value as unknown as DataView;
      return new ctor(
        cloneBuffer(view.buffer as ArrayBuffer),
        view.byteOffset,
        view.byteLength,
      ) as Keyed;
    }
    case "[object Boolean]":
    case "[object Date]":
      return new ctor(+(value as unknown as number)) as Keyed;
    case "[object Number]":
    case "[object String]":
      return new ctor(value) as Keyed;
    case "[object RegExp]": {
      const regexp = value as unknown as RegExp;
      const clone = new ctor(regexp.source, /\w*$/.exec(String(regexp))?.[0]) as RegExp;
      clone.lastIndex = regexp.lastIndex;
      return clone as unknown as Keyed;
    }
    case "[object Map]":
    case "[object Set]":
      return new ctor() as Keyed;
    case "[object Symbol]":
      return Object(Symbol.prototype.valueOf.call(value));
    default:
      if (TYPED_ARRAY_TAGS.has(tag)) {
        const array = value as unknown as Uint8Array;
        return new ctor(
          cloneBuffer(array.buffer as ArrayBuffer),
          array.byteOffset,
          array.length,
        ) as Keyed;
      }
      return undefined;
  }
}

/** lodash's assignValue: an own property that already holds the same value is left alone. */
function assign(target: Keyed, key: PropertyKey, value: unknown): void {
  const current = target[key];
  const same = current === value || (Number.isNaN(current) && Number.isNaN(value));
  if (hasOwn.call(target, key) && same && !(value === undefined && !(key in target))) return;
  if (key === "__proto__")
    Object.defineProperty(target, key, {
      configurable: true,
      enumerable: true,
      value,
      writable: true,
    });
  else target[key] = value;
}

function ownEnumerableKeys(value: Keyed): PropertyKey[] {
  const keys: PropertyKey[] = Object.keys(value);
  for (const symbol of Object.getOwnPropertySymbols(value))
    if (Object.prototype.propertyIsEnumerable.call(value, symbol)) keys.push(symbol);
  return keys;
}

/** `nested`: the value sits inside another (lodash keeps uncloneable values there). */
function cloneValue(value: unknown, nested: boolean, clones: Clones): unknown {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
  const source = value as Keyed;
  const isArray = Array.isArray(value);
  let tag = "";
  let result: Keyed;
  if (isArray) {
    result = new (source.constructor as Ctor)(source.length) as Keyed;
    if (source.length && typeof source[0] === "string" && hasOwn.call(source, "index")) {
      result.index = source.index;
      result.input = source.input;
    }
  } else {
    tag = rawTag(source);
    const isFunction = tag === "[object Function]" || tag === "[object GeneratorFunction]";
    if (tag === "[object Object]" || tag === "[object Arguments]" || (isFunction && !nested)) {
      result = isFunction ? {} : emptyObject(source);
    } else {
      const clone = emptyClone(source, tag);
      if (clone === undefined) return nested ? value : {};
      result = clone;
    }
  }
  const known = clones.get(source);
  if (known !== undefined) return known;
  clones.set(source, result);
  if (tag === "[object Set]")
    for (const item of value as Set<unknown>)
      (result as unknown as Set<unknown>).add(cloneValue(item, true, clones));
  else if (tag === "[object Map]")
    for (const [key, item] of value as Map<unknown, unknown>)
      (result as unknown as Map<unknown, unknown>).set(key, cloneValue(item, true, clones));
  if (isArray) {
    for (let i = 0; i < (source.length as number); i++)
      assign(result, i, cloneValue(source[i], true, clones));
  } else {
    for (const key of ownEnumerableKeys(source))
      assign(result, key, cloneValue(source[key], true, clones));
  }
  return result;
}

export function cloneDeep<T>(value: T): T {
  return cloneValue(value, false, new Map()) as T;
}
