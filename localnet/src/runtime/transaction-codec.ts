/**
 * Borsh encoding of NEAR transactions as near-api-js sends them (base64 in send_tx /
 * broadcast_tx_*): SignedTransaction = Transaction + Signature, hash = sha256(borsh(Transaction)).
 * Transaction V1 (leading byte 1, with a priority fee) decodes but is refused: protocol 77 only
 * accepts V0.
 */
import { createHash } from "node:crypto";
import type { Action as VMAction } from "../vm/types.ts";
import { BorshReader, BorshWriter } from "./borsh.ts";
import { invalidTx } from "./errors.ts";
import { publicKeyLength, SIGNATURE_LENGTHS } from "./keys.ts";
import type {
  AccessKeyPermission,
  Action,
  DelegateAction,
  PublicKey,
  Signature,
  SignedTransaction,
  Transaction,
} from "./types.ts";

/** NEP-461 prefix of a signed DelegateAction: 2^30 + 366. */
const DELEGATE_ACTION_PREFIX = 1073742190;

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

// ---------- decoding ----------

function readKeyType(r: BorshReader, what: string): 0 | 1 {
  const t = r.u8(what);
  if (t !== 0 && t !== 1) throw new Error(`unknown key type ${t} in ${what}`);
  return t;
}

function readPublicKey(r: BorshReader): PublicKey {
  const keyType = readKeyType(r, "public key");
  return { keyType, data: r.fixed(publicKeyLength(keyType), "public key") };
}

function readSignature(r: BorshReader): Signature {
  const keyType = readKeyType(r, "signature");
  return { keyType, data: r.fixed(SIGNATURE_LENGTHS[keyType], "signature") };
}

function readPermission(r: BorshReader): AccessKeyPermission {
  const tag = r.u8("access key permission");
  if (tag === 1) return { kind: "fullAccess" };
  if (tag !== 0) throw new Error(`unknown access key permission tag ${tag}`);
  const allowance = r.option(() => r.u128("allowance"));
  const receiverId = r.string("permission receiver_id");
  const methodNames = r.vec(() => r.string("method name"), "method names");
  return { kind: "functionCall", allowance, receiverId, methodNames };
}

function readNonDelegateAction(r: BorshReader, tag: number): VMAction {
  switch (tag) {
    case 0:
      return { kind: "createAccount" };
    case 1:
      return { kind: "deployContract", code: r.bytesVec("contract code") };
    case 2: {
      const methodName = r.string("method_name");
      const args = r.bytesVec("args");
      const gas = r.u64("gas");
      const deposit = r.u128("deposit");
      return { kind: "functionCall", methodName, args, gas, deposit, gasWeight: 0n };
    }
    case 3:
      return { kind: "transfer", deposit: r.u128("deposit") };
    case 4: {
      const stake = r.u128("stake");
      return { kind: "stake", stake, publicKey: readPublicKey(r) };
    }
    case 5: {
      const publicKey = readPublicKey(r);
      const nonce = r.u64("access key nonce");
      return { kind: "addKey", publicKey, nonce, permission: readPermission(r) };
    }
    case 6:
      return { kind: "deleteKey", publicKey: readPublicKey(r) };
    case 7:
      return { kind: "deleteAccount", beneficiaryId: r.string("beneficiary_id") };
    case 9:
    case 10:
      throw new Error(
        "global contract actions (DeployGlobalContract, UseGlobalContract) are not supported by localnet",
      );
    default:
      throw new Error(`unknown action tag ${tag}`);
  }
}

function readDelegateAction(r: BorshReader): DelegateAction {
  const senderId = r.string("delegate sender_id");
  const receiverId = r.string("delegate receiver_id");
  const actions = r.vec(() => {
    const tag = r.u8("action tag");
    if (tag === 8) throw new Error("a DelegateAction cannot contain another DelegateAction");
    return readNonDelegateAction(r, tag);
  }, "delegate actions");
  const nonce = r.u64("delegate nonce");
  const maxBlockHeight = r.u64("max_block_height");
  const publicKey = readPublicKey(r);
  return { senderId, receiverId, actions, nonce, maxBlockHeight, publicKey };
}

function readAction(r: BorshReader): Action {
  const tag = r.u8("action tag");
  if (tag !== 8) return readNonDelegateAction(r, tag);
  const delegateAction = readDelegateAction(r);
  return { kind: "delegate", delegateAction, signature: readSignature(r) };
}

function readTransaction(r: BorshReader): Transaction {
  // V0 starts with signer_id's u32 length (2..64), so a leading 1 can only mean V1.
  const first = r.bytes[r.offset];
  if (first === 1) {
    throw invalidTx("InvalidTransactionVersion", {});
  }
  const signerId = r.string("signer_id");
  const publicKey = readPublicKey(r);
  const nonce = r.u64("nonce");
  const receiverId = r.string("receiver_id");
  const blockHash = r.fixed(32, "block_hash");
  const actions = r.vec(() => readAction(r), "actions");
  return { signerId, publicKey, nonce, receiverId, blockHash, actions };
}

/** Decodes borsh SignedTransaction bytes; throws an Error naming what is malformed. */
export function decodeSignedTransaction(bytes: Uint8Array): SignedTransaction {
  const r = new BorshReader(bytes);
  const transaction = readTransaction(r);
  const txEnd = r.offset;
  const signature = readSignature(r);
  r.end("signed transaction");
  return { transaction, signature, hash: sha256(bytes.subarray(0, txEnd)), size: bytes.length };
}

/** Decodes a base64 SignedTransaction as RPC receives it. */
export function decodeSignedTransactionBase64(text: string): SignedTransaction {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new Error("signed transaction must be a base64 string");
  }
  return decodeSignedTransaction(new Uint8Array(Buffer.from(text, "base64")));
}

// ---------- encoding ----------

function writePublicKey(w: BorshWriter, key: PublicKey): void {
  w.u8(key.keyType).fixed(key.data);
}

function writeSignature(w: BorshWriter, sig: Signature): void {
  w.u8(sig.keyType).fixed(sig.data);
}

function writeNonDelegateAction(w: BorshWriter, a: VMAction): void {
  switch (a.kind) {
    case "createAccount":
      w.u8(0);
      return;
    case "deployContract":
      w.u8(1).bytesVec(a.code);
      return;
    case "functionCall":
      w.u8(2).string(a.methodName).bytesVec(a.args).u64(a.gas).u128(a.deposit);
      return;
    case "transfer":
      w.u8(3).u128(a.deposit);
      return;
    case "stake":
      w.u8(4).u128(a.stake);
      writePublicKey(w, a.publicKey);
      return;
    case "addKey":
      w.u8(5);
      writePublicKey(w, a.publicKey);
      w.u64(a.nonce);
      writePermission(w, a.permission);
      return;
    case "deleteKey":
      w.u8(6);
      writePublicKey(w, a.publicKey);
      return;
    case "deleteAccount":
      w.u8(7).string(a.beneficiaryId);
      return;
  }
}

export function writePermission(w: BorshWriter, p: AccessKeyPermission): void {
  if (p.kind === "fullAccess") {
    w.u8(1);
    return;
  }
  w.u8(0);
  if (p.allowance === null) w.u8(0);
  else w.u8(1).u128(p.allowance);
  w.string(p.receiverId).u32(p.methodNames.length);
  for (const name of p.methodNames) w.string(name);
}

function writeDelegateAction(w: BorshWriter, d: DelegateAction): void {
  w.string(d.senderId).string(d.receiverId).u32(d.actions.length);
  for (const a of d.actions) writeNonDelegateAction(w, a);
  w.u64(d.nonce).u64(d.maxBlockHeight);
  writePublicKey(w, d.publicKey);
}

function writeAction(w: BorshWriter, a: Action): void {
  if (a.kind === "delegate") {
    w.u8(8);
    writeDelegateAction(w, a.delegateAction);
    writeSignature(w, a.signature);
    return;
  }
  writeNonDelegateAction(w, a);
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  const w = new BorshWriter();
  w.string(tx.signerId);
  writePublicKey(w, tx.publicKey);
  w.u64(tx.nonce).string(tx.receiverId).fixed(tx.blockHash).u32(tx.actions.length);
  for (const a of tx.actions) writeAction(w, a);
  return w.toBytes();
}

export function encodeSignedTransaction(tx: Transaction, signature: Signature): Uint8Array {
  const body = encodeTransaction(tx);
  const w = new BorshWriter();
  w.fixed(body);
  writeSignature(w, signature);
  return w.toBytes();
}

/** Builds a SignedTransaction (hash and size filled in) from its parts. */
export function signedTransaction(tx: Transaction, signature: Signature): SignedTransaction {
  const body = encodeTransaction(tx);
  return {
    transaction: tx,
    signature,
    hash: sha256(body),
    size: body.length + 1 + signature.data.length,
  };
}

/** The hash a delegate action's sender signs: sha256(u32 NEP-461 prefix ++ borsh(DelegateAction)). */
export function delegateActionHash(d: DelegateAction): Uint8Array {
  const w = new BorshWriter();
  w.u32(DELEGATE_ACTION_PREFIX);
  writeDelegateAction(w, d);
  return sha256(w.toBytes());
}

/** Length of borsh(AccessKey) with the given permission: u64 nonce + permission. */
export function accessKeyBorshLength(p: AccessKeyPermission): number {
  const w = new BorshWriter();
  writePermission(w, p);
  return 8 + w.length;
}
