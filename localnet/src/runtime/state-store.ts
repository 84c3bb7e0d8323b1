/**
 * In-memory state: accounts, access keys, contract code, contract data, and the runtime's own
 * columns (received data, postponed receipts, delayed receipts). Each commitBlock seals an undo
 * log so that the last `maxVersions` blocks can be read back with at(height).
 */
import { runtimeConfig } from "../config/runtime-config.ts";
import { parsePublicKey, publicKeyBorshLength, publicKeyToString } from "./keys.ts";
import { accessKeyBorshLength, sha256 } from "./transaction-codec.ts";
import type {
  AccessKey,
  Account,
  PublicKey,
  Receipt,
  StateReader,
  StateRecordView,
  StateStore,
} from "./types.ts";
import { VersionedMap } from "./versioned-map.ts";
import {
  accessKeyFromView,
  accessKeyToView,
  accountFromView,
  accountToView,
  parseAccountId,
} from "./views.ts";

export interface StoredAccessKey {
  publicKey: PublicKey;
  accessKey: AccessKey;
}

export interface DelayedIndices {
  first: number;
  next: number;
}

/** Every column the runtime writes. Keys: "<account>" or "<account> <rest>". */
export interface Columns {
  account: VersionedMap<Account>;
  accessKey: VersionedMap<StoredAccessKey>;
  code: VersionedMap<Uint8Array>;
  data: VersionedMap<Uint8Array>;
  /** "<receiver> <dataIdHex>" -> data (null: the producing receipt failed). */
  receivedData: VersionedMap<{ data: Uint8Array | null }>;
  /** "<receiver> <dataIdHex>" -> id of the postponed receipt waiting for that data. */
  postponedReceiptId: VersionedMap<Uint8Array>;
  /** "<receiver> <receiptIdHex>" -> number of inputs still missing. */
  pendingDataCount: VersionedMap<number>;
  /** "<receiver> <receiptIdHex>" -> receipt. */
  postponedReceipt: VersionedMap<Receipt>;
  /** "<index>" -> receipt delayed by the chunk gas limit. */
  delayedReceipt: VersionedMap<Receipt>;
  delayedIndices: VersionedMap<DelayedIndices>;
}

export type ColumnName = keyof Columns;

const latin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
const fromLatin1 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));

export const keys = {
  /** Key type digit + hex of the key: cheap to build, sorts like nearcore's trie keys. */
  accessKey: (accountId: string, publicKey: PublicKey): string =>
    `${accountId} ${publicKey.keyType}${Buffer.from(publicKey.data.buffer, publicKey.data.byteOffset, publicKey.data.byteLength).toString("hex")}`,
  accessKeyPublicKey: (storeKey: string): PublicKey => {
    const text = storeKey.slice(storeKey.indexOf(" ") + 1);
    return {
      keyType: text[0] === "1" ? 1 : 0,
      data: new Uint8Array(Buffer.from(text.slice(1), "hex")),
    };
  },
  data: (accountId: string, key: Uint8Array): string => `${accountId} ${latin1(key)}`,
  dataKeyBytes: (storeKey: string): Uint8Array =>
    fromLatin1(storeKey.slice(storeKey.indexOf(" ") + 1)),
  byId: (accountId: string, id: Uint8Array): string =>
    `${accountId} ${Buffer.from(id).toString("hex")}`,
};

/** Storage bytes one access key record costs (nearcore: borsh(public key) + borsh(access key) + 40). */
export function accessKeyStorage(publicKey: PublicKey, accessKey: AccessKey): bigint {
  const extra = runtimeConfig.transaction_costs.storage_usage_config.num_extra_bytes_record;
  return BigInt(
    publicKeyBorshLength(publicKey) + accessKeyBorshLength(accessKey.permission) + extra,
  );
}

export function dataStorage(key: Uint8Array, value: Uint8Array): bigint {
  const extra = runtimeConfig.transaction_costs.storage_usage_config.num_extra_bytes_record;
  return BigInt(key.length + value.length + extra);
}

type Getter = <C extends ColumnName>(column: C, key: string) => ColumnValue<C> | undefined;
type KeyLister = (column: "accessKey" | "data", accountId: string) => Iterable<string>;
export type ColumnValue<C extends ColumnName> =
  Columns[C] extends VersionedMap<infer V> ? V : never;

/** StateReader over any (column, key) getter: the current state or a past version. */
export class ColumnReader implements StateReader {
  private readonly get: Getter;
  private readonly listKeys: KeyLister;

  constructor(get: Getter, listKeys: KeyLister) {
    this.get = get;
    this.listKeys = listKeys;
  }

  getAccount(accountId: string): Account | null {
    return this.get("account", accountId) ?? null;
  }

  getAccessKey(accountId: string, publicKey: PublicKey): AccessKey | null {
    return this.get("accessKey", keys.accessKey(accountId, publicKey))?.accessKey ?? null;
  }

  listAccessKeys(accountId: string): { publicKey: PublicKey; accessKey: AccessKey }[] {
    const out: StoredAccessKey[] = [];
    for (const key of [...this.listKeys("accessKey", accountId)].sort()) {
      const stored = this.get("accessKey", key);
      if (stored !== undefined) out.push(stored);
    }
    return out;
  }

  getCode(accountId: string): Uint8Array | null {
    return this.get("code", accountId) ?? null;
  }

  getData(accountId: string, key: Uint8Array): Uint8Array | null {
    return this.get("data", keys.data(accountId, key)) ?? null;
  }

  listData(accountId: string, prefix: Uint8Array): { key: Uint8Array; value: Uint8Array }[] {
    const start = keys.data(accountId, prefix);
    const out: { key: Uint8Array; value: Uint8Array }[] = [];
    for (const storeKey of [...this.listKeys("data", accountId)].sort()) {
      if (!storeKey.startsWith(start)) continue;
      const value = this.get("data", storeKey);
      if (value !== undefined) out.push({ key: keys.dataKeyBytes(storeKey), value });
    }
    return out;
  }
}

export class MemoryStateStore extends ColumnReader implements StateStore {
  readonly columns: Columns;
  /** Heights of the sealed versions kept, oldest first (parallel to each column's history). */
  private readonly heights: bigint[] = [];
  /** Height of the newest version dropped from history: versions from there on are readable. */
  private floorHeight: bigint | null = null;
  private readonly maxVersions: number;

  constructor(options: { maxVersions?: number } = {}) {
    const columns: Columns = {
      account: new VersionedMap(),
      accessKey: new VersionedMap(),
      code: new VersionedMap(),
      data: new VersionedMap(),
      receivedData: new VersionedMap(),
      postponedReceiptId: new VersionedMap(),
      pendingDataCount: new VersionedMap(),
      postponedReceipt: new VersionedMap(),
      delayedReceipt: new VersionedMap(),
      delayedIndices: new VersionedMap(),
    };
    super(
      (column, key) => columns[column].get(key) as never,
      (column, accountId) => columns[column].keysOf(accountId),
    );
    this.columns = columns;
    this.maxVersions = options.maxVersions ?? 1000;
  }

  /** The newest sealed height, or null before the first commitBlock. */
  get latestHeight(): bigint | null {
    return this.heights.at(-1) ?? null;
  }

  at(height: bigint): StateReader | null {
    const oldest = this.floorHeight ?? this.heights[0];
    if (oldest === undefined || height < oldest) return null;
    // Number of kept logs for blocks <= height: reading undoes every log after them.
    let index = 0;
    while (index < this.heights.length && (this.heights[index] as bigint) <= height) index++;
    const columns = this.columns;
    return new ColumnReader(
      (column, key) => columns[column].getAt(key, index) as never,
      (column, accountId) => columns[column].keysOfAt(accountId, index),
    );
  }

  commitBlock(height: bigint): void {
    const latest = this.latestHeight;
    if (latest !== null && height <= latest) {
      throw new Error(
        `commitBlock(${height}): height must be above the last committed height ${latest}`,
      );
    }
    for (const column of Object.values(this.columns)) column.seal();
    this.heights.push(height);
    while (this.heights.length > this.maxVersions) {
      this.floorHeight = this.heights.shift() as bigint;
      for (const column of Object.values(this.columns)) column.dropOldest();
    }
  }

  applyRecords(records: StateRecordView[]): void {
    if (!Array.isArray(records)) throw new Error("state records must be an array");
    const touched = new Set<string>();
    records.forEach((record, i) => {
      touched.add(this.applyRecord(record, `records[${i}]`));
    });
    for (const accountId of touched) this.recomputeStorageUsage(accountId);
  }

  private applyRecord(record: StateRecordView, what: string): string {
    if (typeof record !== "object" || record === null) throw new Error(`${what} must be an object`);
    const entries = Object.entries(record);
    const [kind, body] = entries[0] ?? [];
    if (entries.length !== 1 || typeof body !== "object" || body === null) {
      throw new Error(`${what} must have exactly one key (Account, AccessKey, Contract or Data)`);
    }
    const b = body as Record<string, unknown>;
    const accountId = parseAccountId(b.account_id, `${what}.${kind}.account_id`);
    const c = this.columns;
    switch (kind) {
      case "Account": {
        const account = accountFromView(b.account, `${what}.Account.account`);
        c.account.set(accountId, account);
        return accountId;
      }
      case "AccessKey": {
        const publicKey = parsePublicKey(b.public_key as string);
        const accessKey = accessKeyFromView(b.access_key, `${what}.AccessKey.access_key`);
        c.accessKey.set(keys.accessKey(accountId, publicKey), { publicKey, accessKey });
        return accountId;
      }
      case "Contract": {
        const code = decodeBase64(b.code, `${what}.Contract.code`);
        c.code.set(accountId, code);
        const account = c.account.get(accountId);
        if (account !== undefined) c.account.set(accountId, { ...account, codeHash: sha256(code) });
        return accountId;
      }
      case "Data": {
        const key = decodeBase64(b.data_key, `${what}.Data.data_key`);
        const value = decodeBase64(b.value, `${what}.Data.value`);
        c.data.set(keys.data(accountId, key), value);
        return accountId;
      }
      default:
        throw new Error(`${what}: unsupported state record kind ${JSON.stringify(kind)}`);
    }
  }

  /** nearcore's genesis storage accounting: 100 per account + code + keys + data records. */
  recomputeStorageUsage(accountId: string): void {
    const account = this.columns.account.get(accountId);
    if (account === undefined) return;
    const cfg = runtimeConfig.transaction_costs.storage_usage_config;
    let usage = BigInt(cfg.num_bytes_account);
    const code = this.columns.code.get(accountId);
    if (code !== undefined) usage += BigInt(code.length);
    for (const key of this.columns.accessKey.keysOf(accountId)) {
      const stored = this.columns.accessKey.get(key) as StoredAccessKey;
      usage += accessKeyStorage(stored.publicKey, stored.accessKey);
    }
    for (const key of this.columns.data.keysOf(accountId)) {
      const value = this.columns.data.get(key) as Uint8Array;
      usage += dataStorage(keys.dataKeyBytes(key), value);
    }
    if (usage !== account.storageUsage)
      this.columns.account.set(accountId, { ...account, storageUsage: usage });
  }

  records(): StateRecordView[] {
    const out: StateRecordView[] = [];
    const c = this.columns;
    for (const [accountId, account] of c.account.current) {
      out.push({ Account: { account_id: accountId, account: omitPaidAt(accountToView(account)) } });
      const code = c.code.get(accountId);
      if (code !== undefined)
        out.push({
          Contract: { account_id: accountId, code: Buffer.from(code).toString("base64") },
        });
      for (const { publicKey, accessKey } of this.listAccessKeys(accountId)) {
        out.push({
          AccessKey: {
            account_id: accountId,
            public_key: publicKeyToString(publicKey),
            access_key: accessKeyToView(accessKey),
          },
        });
      }
      for (const { key, value } of this.listData(accountId, new Uint8Array())) {
        out.push({
          Data: {
            account_id: accountId,
            data_key: Buffer.from(key).toString("base64"),
            value: Buffer.from(value).toString("base64"),
          },
        });
      }
    }
    return out;
  }

  /** Sum of amount + locked over all accounts (balance checks). */
  totalBalance(): bigint {
    let total = 0n;
    for (const account of this.columns.account.current.values())
      total += account.amount + account.locked;
    return total;
  }
}

function omitPaidAt(view: Record<string, unknown>): Record<string, unknown> {
  const { storage_paid_at: _, ...rest } = view;
  return rest;
}

function decodeBase64(value: unknown, what: string): Uint8Array {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new Error(`${what} must be a base64 string`);
  }
  return new Uint8Array(Buffer.from(value, "base64"));
}
