/**
 * Contract storage as JSON records under short string keys, and a dense set for pagination.
 * Plain keys (rather than near-sdk-js collections) keep the layout explicit: README lists them.
 */
import { near } from "near-sdk-js";

export function readRecord<T>(key: string): T | null {
  const raw = near.storageRead(key);
  return raw === null ? null : (JSON.parse(raw) as T);
}

export function writeRecord(key: string, value: unknown): void {
  near.storageWrite(key, JSON.stringify(value));
}

export function hasRecord(key: string): boolean {
  return near.storageHasKey(key);
}

export function removeRecord(key: string): boolean {
  return near.storageRemove(key);
}

/**
 * A set of strings kept dense for paging: `<prefix>#` holds the size, `<prefix>[<i>` the i-th
 * member and `<prefix>]<member>` its position. Removal moves the last member into the hole, so
 * order is insertion order until something is removed. Members must not contain '#', '[' or ']'.
 */
export class DenseSet {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  size(): number {
    const raw = near.storageRead(`${this.prefix}#`);
    return raw === null ? 0 : Number(raw);
  }

  has(member: string): boolean {
    return near.storageHasKey(`${this.prefix}]${member}`);
  }

  /** Returns false when the member was already present. */
  add(member: string): boolean {
    if (this.has(member)) {
      return false;
    }
    const size = this.size();
    near.storageWrite(`${this.prefix}[${size}`, member);
    near.storageWrite(`${this.prefix}]${member}`, String(size));
    near.storageWrite(`${this.prefix}#`, String(size + 1));
    return true;
  }

  /** Returns false when the member was absent. */
  remove(member: string): boolean {
    const raw = near.storageRead(`${this.prefix}]${member}`);
    if (raw === null) {
      return false;
    }
    const index = Number(raw);
    const last = this.size() - 1;
    if (index !== last) {
      const moved = near.storageRead(`${this.prefix}[${last}`) ?? "";
      near.storageWrite(`${this.prefix}[${index}`, moved);
      near.storageWrite(`${this.prefix}]${moved}`, String(index));
    }
    near.storageRemove(`${this.prefix}[${last}`);
    near.storageRemove(`${this.prefix}]${member}`);
    if (last === 0) {
      near.storageRemove(`${this.prefix}#`);
    } else {
      near.storageWrite(`${this.prefix}#`, String(last));
    }
    return true;
  }

  page(from: number, limit: number): string[] {
    const end = Math.min(this.size(), from + limit);
    const out: string[] = [];
    for (let i = from; i < end; i++) {
      const member = near.storageRead(`${this.prefix}[${i}`);
      if (member !== null) {
        out.push(member);
      }
    }
    return out;
  }
}
