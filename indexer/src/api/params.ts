/**
 * Query parameter validation. Every parser names the parameter and what was wrong; the server
 * answers such errors with 400. Unknown parameters are errors too (a typo must not silently
 * widen a search).
 */

export class QueryError extends Error {
  override name = "QueryError";
}

const U128_MAX = (1n << 128n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;

export class Query {
  #params: URLSearchParams;
  #read = new Set<string>();

  constructor(params: URLSearchParams) {
    this.#params = params;
    for (const key of new Set(params.keys())) {
      if (params.getAll(key).length > 1) {
        throw new QueryError(`${key}: given more than once`);
      }
    }
  }

  #raw(name: string): string | undefined {
    this.#read.add(name);
    const value = this.#params.get(name);
    return value === null ? undefined : value;
  }

  /** Throws naming the first parameter no parser read. */
  done(): void {
    for (const key of this.#params.keys()) {
      if (!this.#read.has(key)) {
        throw new QueryError(`${key}: unknown parameter`);
      }
    }
  }

  text(name: string, maxLength: number): string | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (value.length === 0 || value.length > maxLength) {
      throw new QueryError(`${name}: must be 1 to ${maxLength} characters`);
    }
    return value;
  }

  match(name: string, pattern: RegExp, what: string, maxLength = 64): string | undefined {
    const value = this.text(name, maxLength);
    if (value !== undefined && !pattern.test(value)) {
      throw new QueryError(`${name}: must be ${what}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  accountId(name: string): string | undefined {
    const value = this.text(name, 64);
    if (value !== undefined && (value.length < 2 || !ACCOUNT_ID.test(value))) {
      throw new QueryError(`${name}: must be a NEAR account id, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  int(name: string, min: number, max: number): number | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (!/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new QueryError(
        `${name}: must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
    }
    return Number(value);
  }

  #decimal(name: string, max: bigint, what: string): string | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (!/^(0|[1-9]\d{0,38})$/.test(value) || BigInt(value) > max) {
      throw new QueryError(
        `${name}: must be ${what} as a decimal integer, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  }

  /** A u128 amount (yoctoNEAR or token base units) as a canonical decimal string. */
  u128(name: string): string | undefined {
    return this.#decimal(name, U128_MAX, "a u128 amount");
  }

  u64(name: string): string | undefined {
    return this.#decimal(name, U64_MAX, "a u64");
  }

  bool(name: string): boolean | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (value !== "true" && value !== "false") {
      throw new QueryError(`${name}: must be true or false, got ${JSON.stringify(value)}`);
    }
    return value === "true";
  }

  oneOf<const T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) {
      throw new QueryError(
        `${name}: must be one of ${values.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
    return value as T;
  }

  /** Page size: 1 to 100, default 20. */
  limit(): number {
    return this.int("limit", 1, 100) ?? 20;
  }

  /** The opaque cursor a previous page returned, decoded to its key values. */
  cursor(length: number): string[] | undefined {
    const value = this.#raw("cursor");
    if (value === undefined) return undefined;
    try {
      const decoded: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
      if (
        Array.isArray(decoded) &&
        decoded.length === length &&
        decoded.every((v) => typeof v === "string" && v.length <= 128)
      ) {
        return decoded as string[];
      }
    } catch {
      // falls through to the error below
    }
    throw new QueryError("cursor: not a cursor returned by this endpoint with these parameters");
  }
}

/** An id from the path or a cursor: a u64 decimal integer. */
export function u64Id(value: string, what: string): string {
  if (!/^\d{1,20}$/.test(value) || BigInt(value) >= 1n << 64n) {
    throw new QueryError(`${what}: must be a u64 decimal integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function encodeCursor(values: string[]): string {
  return Buffer.from(JSON.stringify(values), "utf8").toString("base64url");
}

/**
 * One page of a query that fetched `limit + 1` rows: the first `limit`, and the cursor of the next
 * page when there is one (from the last row shown).
 */
export function paginate<Row>(
  rows: Row[],
  limit: number,
  cursorOf: (last: Row) => string[],
): { data: Row[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return {
    data,
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
