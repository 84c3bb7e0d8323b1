import { describe, expect, it } from "vitest";
import { keys, MemoryStateStore } from "../../src/runtime/state-store.ts";
import { accountRecord, makeKey, NEAR } from "./helpers.ts";

const enc = new TextEncoder();
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("MemoryStateStore", () => {
  it("reads accounts, keys and data as of each kept block, and forgets versions beyond maxVersions", () => {
    const store = new MemoryStateStore({ maxVersions: 3 });
    const k1 = makeKey();
    const k2 = makeKey();
    store.applyRecords(accountRecord("a.near", NEAR, k1));
    store.commitBlock(10n);
    store.applyRecords([
      {
        AccessKey: {
          account_id: "a.near",
          public_key: k2.text,
          access_key: { nonce: 1, permission: "FullAccess" },
        },
      },
      { Data: { account_id: "a.near", data_key: b64("x1"), value: b64("one") } },
    ]);
    store.commitBlock(12n);
    // A key deleted in block 13 is still listed as of block 12.
    store.columns.accessKey.set(keys.accessKey("a.near", k1.publicKey), undefined);
    store.applyRecords([
      { Data: { account_id: "a.near", data_key: b64("x2"), value: b64("two") } },
    ]);
    store.commitBlock(13n);

    expect(store.at(10n)?.listAccessKeys("a.near").length).toBe(1);
    expect(store.at(12n)?.listAccessKeys("a.near").length).toBe(2);
    expect(
      store
        .at(13n)
        ?.listAccessKeys("a.near")
        .map((k) => k.publicKey),
    ).toEqual([k2.publicKey]);
    expect(store.at(12n)?.getAccessKey("a.near", k1.publicKey)?.nonce).toBe(0n);
    expect(store.at(11n)?.listData("a.near", enc.encode("x"))).toEqual([]);
    expect(
      store
        .at(12n)
        ?.listData("a.near", enc.encode("x"))
        .map((d) => Buffer.from(d.value).toString()),
    ).toEqual(["one"]);
    expect(
      store
        .at(13n)
        ?.listData("a.near", enc.encode("x"))
        .map((d) => Buffer.from(d.key).toString()),
    ).toEqual(["x1", "x2"]);
    expect(store.at(9n)).toBeNull();
    // Storage usage follows the records: 100 + key 42+40 (+ second key) + data.
    expect(store.at(10n)?.getAccount("a.near")?.storageUsage).toBe(182n);
    expect(store.at(12n)?.getAccount("a.near")?.storageUsage).toBe(182n + 82n + 2n + 3n + 40n);

    store.commitBlock(14n);
    store.commitBlock(15n);
    // Only the last 3 versions are kept: 13, 14, 15 (and 12, the state the oldest kept log undoes to).
    expect(store.at(11n)).toBeNull();
    expect(store.at(12n)?.listData("a.near", new Uint8Array()).length).toBe(1);
    expect(store.at(15n)?.listData("a.near", new Uint8Array()).length).toBe(2);
    expect(() => store.commitBlock(15n)).toThrow(/must be above the last committed height 15/);
  });

  it("rejects malformed records with the path of the offending field", () => {
    const store = new MemoryStateStore();
    expect(() => store.applyRecords([{ Account: { account_id: "Bad Id", account: {} } }])).toThrow(
      /records\[0\]\.Account\.account_id is not a valid account id/,
    );
    expect(() =>
      store.applyRecords([{ Account: { account_id: "ok.near", account: { amount: "-1" } } }]),
    ).toThrow(/records\[0\]\.Account\.account\.amount must be a u128 decimal string/);
    expect(() => store.applyRecords([{ Foo: { account_id: "ok.near" } }])).toThrow(
      /unsupported state record kind "Foo"/,
    );
    expect(() =>
      store.applyRecords([{ Data: { account_id: "ok.near", data_key: "!!", value: "" } }]),
    ).toThrow(/Data\.data_key must be a base64 string/);
  });

  it("round-trips its records", () => {
    const store = new MemoryStateStore();
    const key = makeKey();
    const records = [
      ...accountRecord("a.near", 5n * NEAR, key),
      { Contract: { account_id: "a.near", code: b64("\0asm") } },
      { Data: { account_id: "a.near", data_key: b64("k"), value: b64("v") } },
    ];
    store.applyRecords(records);
    const copy = new MemoryStateStore();
    copy.applyRecords(store.records());
    expect(copy.records()).toEqual(store.records());
    expect(copy.getAccount("a.near")?.storageUsage).toBe(182n + 4n + 42n);
  });
});
