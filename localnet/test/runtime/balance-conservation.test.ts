import { describe, expect, it } from "vitest";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { totalSupply } from "../../src/runtime/balance-checker.ts";
import type { Action, SignedTransaction } from "../../src/runtime/types.ts";
import { fakeContract, TGAS } from "./fake-contract.ts";
import { accountRecord, makeKey, NEAR, signTx, TestChain, type TestKey } from "./helpers.ts";

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("balance conservation", () => {
  it("balances + in-flight receipts + burnt tokens equal the initial supply after every block of random transactions", () => {
    const random = rng(7);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
    const users = Array.from({ length: 8 }, (_, i) => ({ id: `user${i}.near`, key: makeKey() }));
    const code = Buffer.from([0, 97, 115, 109]).toString("base64");
    const records = [
      ...users.flatMap((u) => accountRecord(u.id, 1000n * NEAR, u.key)),
      ...accountRecord("app.near", 100n * NEAR, null),
      ...accountRecord("other.near", 100n * NEAR, null),
      { Contract: { account_id: "app.near", code } },
      { Contract: { account_id: "other.near", code } },
    ];
    const c = new TestChain(fakeContract, records);
    const initial = totalSupply(c.store, runtimeConfig, []);
    const nonces = new Map<string, bigint>();
    const extraKeys: TestKey[] = [];
    const txFor = (
      user: { id: string; key: TestKey },
      receiverId: string,
      actions: Action[],
    ): SignedTransaction => {
      const n = (nonces.get(user.id) ?? 0n) + 1n;
      nonces.set(user.id, n);
      return signTx(user.key, { signerId: user.id, receiverId, nonce: n, actions });
    };
    const methods = ["set", "panic", "call_other", "transfer_to", "nope"];
    let checked = 0;
    for (let block = 0; block < 40; block++) {
      const txs: SignedTransaction[] = [];
      for (let i = 0; i < 15 && block < 30; i++) {
        const user = pick(users);
        const amount =
          BigInt(Math.floor(random() * 5)) * NEAR + BigInt(Math.floor(random() * 1000));
        const r = random();
        if (r < 0.3) txs.push(txFor(user, pick(users).id, [{ kind: "transfer", deposit: amount }]));
        else if (r < 0.4)
          txs.push(txFor(user, "missing.near", [{ kind: "transfer", deposit: amount }]));
        else if (r < 0.5)
          txs.push(
            txFor(user, Buffer.from(makeKey().publicKey.data).toString("hex"), [
              { kind: "transfer", deposit: amount },
            ]),
          );
        else if (r < 0.8) {
          const method = pick(methods);
          const args =
            method === "set"
              ? `k${i}=v${block}`
              : method === "call_other"
                ? "other.near:get"
                : user.id;
          txs.push(
            txFor(user, pick(["app.near", "other.near"]), [
              {
                kind: "functionCall",
                methodName: method,
                args: new TextEncoder().encode(args),
                gas: 50n * TGAS,
                deposit: amount,
                gasWeight: 0n,
              },
            ]),
          );
        } else if (r < 0.9) {
          const sub = `s${block}x${i}.${user.id}`;
          const key = makeKey();
          extraKeys.push(key);
          txs.push(
            txFor(user, sub, [
              { kind: "createAccount" },
              { kind: "transfer", deposit: amount },
              {
                kind: "addKey",
                publicKey: key.publicKey,
                nonce: 0n,
                permission: { kind: "fullAccess" },
              },
            ]),
          );
        } else {
          // Stale nonce: dropped at apply time, changes nothing.
          txs.push(
            signTx(user.key, {
              signerId: user.id,
              receiverId: user.id,
              nonce: 0n,
              actions: [{ kind: "transfer", deposit: 1n }],
            }),
          );
        }
      }
      const result = c.block(txs);
      expect(totalSupply(c.store, runtimeConfig, c.pending) + c.burnt).toBe(initial);
      if (result.invalidTransactions.length > 0) checked++;
      if (block >= 30 && c.pending.length === 0 && c.delayedCount() === 0) break;
    }
    expect(c.pending.length).toBe(0);
    expect(checked).toBeGreaterThan(0);
    expect(c.burnt).toBeGreaterThan(0n);
  });

  it("stays exact when the gas price changes between the transaction and its receipts (refund or deficit)", () => {
    const users = Array.from({ length: 4 }, (_, i) => ({ id: `u${i}.near`, key: makeKey() }));
    const code = Buffer.from([0, 97, 115, 109]).toString("base64");
    const c = new TestChain(fakeContract, [
      ...users.flatMap((u) => accountRecord(u.id, 100n * NEAR, u.key)),
      ...accountRecord("app.near", 10n * NEAR, null),
      { Contract: { account_id: "app.near", code } },
    ]);
    const initial = totalSupply(c.store, runtimeConfig, []);
    const prices = [100_000_000n, 400_000_000n, 50_000_000n, 1_000_000_000n, 100_000_000n];
    let n = 0n;
    for (const [block, gasPrice] of prices.entries()) {
      n += 1n;
      const txs = users.map((u, i) =>
        signTx(u.key, {
          signerId: u.id,
          receiverId:
            i % 2 === 0 ? "app.near" : (users[(i + 1) % users.length] as (typeof users)[number]).id,
          nonce: n,
          actions:
            i % 2 === 0
              ? [
                  {
                    kind: "functionCall",
                    methodName: block % 2 === 0 ? "set" : "call_other",
                    args: new TextEncoder().encode("app.near:get"),
                    gas: 40n * TGAS,
                    deposit: 7n,
                    gasWeight: 0n,
                  },
                ]
              : [{ kind: "transfer", deposit: NEAR }],
        }),
      );
      c.block(txs, { gasPrice });
      expect(totalSupply(c.store, runtimeConfig, c.pending) + c.burnt).toBe(initial);
    }
    while (c.pending.length > 0) {
      c.block([], { gasPrice: 2_000_000_000n });
      expect(totalSupply(c.store, runtimeConfig, c.pending) + c.burnt).toBe(initial);
    }
  });
});
