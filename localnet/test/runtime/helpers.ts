/** Test harness for the runtime: keys, signed transactions, and a chain that feeds receipts forward. */
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { applyChunk } from "../../src/runtime/apply.ts";
import { publicKeyToString } from "../../src/runtime/keys.ts";
import { MemoryStateStore } from "../../src/runtime/state-store.ts";
import {
  decodeSignedTransaction,
  encodeSignedTransaction,
  sha256,
} from "../../src/runtime/transaction-codec.ts";
import type {
  Action,
  ApplyContext,
  ApplyResult,
  ExecutionOutcome,
  PublicKey,
  Receipt,
  Signature,
  SignedTransaction,
  Transaction,
} from "../../src/runtime/types.ts";
import type { RunFunctionCall } from "../../src/vm/types.ts";

export const NEAR = 10n ** 24n;
export const GAS_PRICE = 100_000_000n;
export const TGAS = 10n ** 12n;

export interface TestKey {
  publicKey: PublicKey;
  text: string;
  sign(message: Uint8Array): Signature;
}

export function makeKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const pk: PublicKey = { keyType: 0, data: new Uint8Array(raw) };
  return {
    publicKey: pk,
    text: publicKeyToString(pk),
    sign: (message) => ({ keyType: 0, data: new Uint8Array(nodeSign(null, message, privateKey)) }),
  };
}

export function blockHash(height: bigint): Uint8Array {
  return sha256(new TextEncoder().encode(`block ${height}`));
}

export function context(height: bigint, overrides: Partial<ApplyContext> = {}): ApplyContext {
  return {
    blockHeight: height,
    blockHash: blockHash(height),
    prevBlockHash: blockHash(height - 1n),
    blockTimestamp: 1_700_000_000_000_000_000n + height * 1_000_000_000n,
    epochHeight: 1n,
    gasPrice: GAS_PRICE,
    gasLimit: 1_000_000_000_000_000n,
    randomSeed: sha256(new TextEncoder().encode(`seed ${height}`)),
    validators: new Map(),
    config: runtimeConfig,
    ...overrides,
  };
}

export function signTx(
  key: TestKey,
  fields: {
    signerId: string;
    receiverId: string;
    nonce: bigint;
    actions: Action[];
    blockHash?: Uint8Array;
  },
): SignedTransaction {
  const tx: Transaction = {
    signerId: fields.signerId,
    publicKey: key.publicKey,
    nonce: fields.nonce,
    receiverId: fields.receiverId,
    blockHash: fields.blockHash ?? blockHash(1n),
    actions: fields.actions,
  };
  const unsigned = encodeSignedTransaction(tx, { keyType: 0, data: new Uint8Array(64) });
  const hash = sha256(unsigned.subarray(0, unsigned.length - 65));
  return decodeSignedTransaction(encodeSignedTransaction(tx, key.sign(hash)));
}

export function accountRecord(
  accountId: string,
  amount: bigint,
  key: TestKey | null,
): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [
    {
      Account: {
        account_id: accountId,
        account: {
          amount: amount.toString(),
          locked: "0",
          code_hash: "11111111111111111111111111111111",
          storage_usage: 0,
        },
      },
    },
  ];
  if (key !== null) {
    records.push({
      AccessKey: {
        account_id: accountId,
        public_key: key.text,
        access_key: { nonce: 0, permission: "FullAccess" },
      },
    });
  }
  return records;
}

/** A VM stand-in for unit tests: a function of the call that returns the outcome it wants. */
export function fakeVM(handler: RunFunctionCall): RunFunctionCall {
  return handler;
}

/** Drives blocks: each block applies the given transactions plus the last block's outgoing receipts. */
export class TestChain {
  readonly store = new MemoryStateStore();
  height = 1n;
  pending: Receipt[] = [];
  burnt = 0n;
  readonly outcomes = new Map<string, ExecutionOutcome>();
  readonly results: ApplyResult[] = [];
  vm: RunFunctionCall;

  constructor(vm: RunFunctionCall, records: Record<string, unknown>[]) {
    this.vm = vm;
    this.store.applyRecords(records);
    this.store.commitBlock(this.height);
  }

  block(
    transactions: SignedTransaction[] = [],
    overrides: Partial<ApplyContext> = {},
  ): ApplyResult {
    this.height += 1n;
    const incoming = this.pending;
    const result = applyChunk(this.store, context(this.height, overrides), transactions, incoming, {
      vm: this.vm,
    });
    this.store.commitBlock(this.height);
    this.pending = result.outgoingReceipts;
    this.burnt += result.tokensBurnt;
    for (const o of result.transactionOutcomes)
      this.outcomes.set(Buffer.from(o.id).toString("hex"), o);
    for (const { outcome } of result.receiptOutcomes)
      this.outcomes.set(Buffer.from(outcome.id).toString("hex"), outcome);
    this.results.push(result);
    return result;
  }

  /** Applies blocks until no receipt is in flight; returns every result. */
  run(transactions: SignedTransaction[] = [], maxBlocks = 50): ApplyResult[] {
    const results = [this.block(transactions)];
    while (this.pending.length > 0 || this.delayedCount() > 0) {
      if (results.length >= maxBlocks) throw new Error("receipts still in flight after maxBlocks");
      results.push(this.block());
    }
    return results;
  }

  delayedCount(): number {
    const indices = this.store.columns.delayedIndices.get("indices");
    return indices === undefined ? 0 : indices.next - indices.first;
  }

  outcome(id: Uint8Array): ExecutionOutcome {
    const o = this.outcomes.get(Buffer.from(id).toString("hex"));
    if (o === undefined) throw new Error("no outcome for id");
    return o;
  }

  /** The outcomes of a transaction and all receipts it caused, in execution order. */
  trace(tx: SignedTransaction): ExecutionOutcome[] {
    const out: ExecutionOutcome[] = [];
    const queue = [this.outcome(tx.hash)];
    while (queue.length > 0) {
      const o = queue.shift() as ExecutionOutcome;
      out.push(o);
      for (const id of o.receiptIds) {
        const next = this.outcomes.get(Buffer.from(id).toString("hex"));
        if (next !== undefined) queue.push(next);
      }
    }
    return out;
  }

  balance(accountId: string): bigint {
    return this.store.getAccount(accountId)?.amount ?? 0n;
  }
}

/** A VM that must never be called. */
export const noVM: RunFunctionCall = () => {
  throw new Error("the VM was not expected to run");
};
