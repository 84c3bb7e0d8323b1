/**
 * Deterministic, unique ids for receipts, actions and data, derived like nearcore's
 * create_hash_upgradable: sha256 of the parent id, the block hash and an index. The leading
 * domain byte keeps the four kinds of id apart (exact equality with nearcore is not a goal).
 */
import { createHash } from "node:crypto";

const DOMAIN = { receiptFromTx: 1, receiptFromReceipt: 2, action: 3, data: 4 } as const;

function derive(
  domain: number,
  parent: Uint8Array,
  blockHash: Uint8Array,
  index: number,
): Uint8Array {
  const idx = Buffer.alloc(8);
  idx.writeBigUInt64LE(BigInt(index));
  return new Uint8Array(
    createHash("sha256")
      .update(Buffer.of(domain))
      .update(parent)
      .update(blockHash)
      .update(idx)
      .digest(),
  );
}

export function receiptIdFromTransaction(txHash: Uint8Array, blockHash: Uint8Array): Uint8Array {
  return derive(DOMAIN.receiptFromTx, txHash, blockHash, 0);
}

export function receiptIdFromReceipt(
  parentId: Uint8Array,
  blockHash: Uint8Array,
  index: number,
): Uint8Array {
  return derive(DOMAIN.receiptFromReceipt, parentId, blockHash, index);
}

export function actionHash(
  receiptId: Uint8Array,
  blockHash: Uint8Array,
  actionIndex: number,
): Uint8Array {
  return derive(DOMAIN.action, receiptId, blockHash, actionIndex);
}

export function dataId(
  actionHashValue: Uint8Array,
  blockHash: Uint8Array,
  counter: number,
): Uint8Array {
  return derive(DOMAIN.data, actionHashValue, blockHash, counter);
}
