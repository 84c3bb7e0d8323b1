/**
 * Small validators for event payloads: each checks one value and returns it typed, or throws a
 * SchemaError naming the path and what was wrong. Objects are exact (an unexpected key is an
 * error), because an event that does not match its schema must never be half-applied.
 */

export class SchemaError extends Error {
  override name = "SchemaError";
}

export type Check<T> = (value: unknown, path: string) => T;
export type Infer<C> = C extends Check<infer T> ? T : never;

const U128_MAX = (1n << 128n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

function fail(path: string, expected: string, value: unknown): never {
  const shown = JSON.stringify(value);
  throw new SchemaError(
    `${path}: expected ${expected}, got ${shown === undefined ? "nothing" : shown.slice(0, 80)}`,
  );
}

export const str: Check<string> = (v, p) => (typeof v === "string" ? v : fail(p, "a string", v));

export const bool: Check<boolean> = (v, p) =>
  typeof v === "boolean" ? v : fail(p, "a boolean", v);

/** A non-negative safe integer (counts, sizes, versions). */
export const count: Check<number> = (v, p) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0
    ? v
    : fail(p, "a non-negative integer", v);

function decimalIn(max: bigint, name: string): Check<string> {
  return (v, p) => {
    if (typeof v !== "string" || !DECIMAL.test(v) || v.length > 40 || BigInt(v) > max) {
      return fail(p, `a ${name} decimal string`, v);
    }
    return v;
  };
}

/** u128 as a canonical decimal string (no sign, no leading zeros, no fraction). */
export const u128 = decimalIn(U128_MAX, "u128");
/** u64 as a canonical decimal string (timestamps in ns, ids). */
export const u64 = decimalIn(U64_MAX, "u64");

/** A string matching `pattern` (described as `what` in the error). */
export function matching(pattern: RegExp, what: string): Check<string> {
  return (v, p) => (typeof v === "string" && pattern.test(v) ? v : fail(p, what, v));
}

/** An integer from `min` to `max` (basis points and the like). */
export function intIn(min: number, max: number): Check<number> {
  return (v, p) =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max
      ? v
      : fail(p, `an integer from ${min} to ${max}`, v);
}

export function oneOf<const T extends string>(...values: T[]): Check<T> {
  return (v, p) =>
    typeof v === "string" && (values as string[]).includes(v)
      ? (v as T)
      : fail(p, `one of ${values.join(", ")}`, v);
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, p) => (v === null ? null : check(v, p));
}

export function array<T>(check: Check<T>): Check<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) {
      return fail(p, "an array", v);
    }
    return v.map((item, i) => check(item, `${p}[${i}]`));
  };
}

const OPTIONAL = Symbol("optional");

/** A field that may be absent (read as undefined); present, it must pass `check`. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  const wrapped: Check<T | undefined> = (v, p) => (v === undefined ? undefined : check(v, p));
  return Object.assign(wrapped, { [OPTIONAL]: true });
}

/** Any JSON value (arguments passed through as given). */
export const anyJson: Check<unknown> = (v) => v;

type Shape = Record<string, Check<unknown>>;
type FromShape<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

export function object<S extends Shape>(shape: S): Check<FromShape<S>> {
  return (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      return fail(p, "an object", v);
    }
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!(key in shape)) {
        throw new SchemaError(`${p}.${key}: unexpected field`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      if (!(key in record)) {
        if (OPTIONAL in check) continue;
        throw new SchemaError(`${p}.${key}: missing`);
      }
      out[key] = check(record[key], `${p}.${key}`);
    }
    return out as FromShape<S>;
  };
}

/** `base` plus more fields (for events that carry a record and a few extras). */
export function extend<S extends Shape, E extends Shape>(
  base: S,
  extra: E,
): Check<FromShape<S & E>> {
  return object({ ...base, ...extra }) as Check<FromShape<S & E>>;
}
