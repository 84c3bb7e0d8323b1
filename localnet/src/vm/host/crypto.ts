/** Hashes and signature checks (the curve operations are in alt-bn128.ts and bls12381.ts). */

import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { ripemd160 as ripemd } from "@noble/hashes/legacy.js";
import { sha256 as sha2 } from "@noble/hashes/sha2.js";
import { keccak_256, keccak_512 } from "@noble/hashes/sha3.js";
import type { ExtCostName } from "../../config/runtime-config.ts";
import { hostErrors } from "../errors.ts";
import type { VMLogic } from "../logic.ts";

function hashInto(
  l: VMLogic,
  base: ExtCostName,
  perByte: ExtCostName,
  fn: (data: Uint8Array) => Uint8Array,
  len: bigint,
  ptr: bigint,
  reg: bigint,
): void {
  l.gas.payBase(base);
  const value = l.memoryOrRegister(ptr, len);
  l.gas.payPer(perByte, value.length);
  l.setRegister(reg, fn(value));
}

export function sha256(l: VMLogic, len: bigint, ptr: bigint, reg: bigint): void {
  hashInto(l, "sha256_base", "sha256_byte", sha2, len, ptr, reg);
}

export function keccak256(l: VMLogic, len: bigint, ptr: bigint, reg: bigint): void {
  hashInto(l, "keccak256_base", "keccak256_byte", keccak_256, len, ptr, reg);
}

export function keccak512(l: VMLogic, len: bigint, ptr: bigint, reg: bigint): void {
  hashInto(l, "keccak512_base", "keccak512_byte", keccak_512, len, ptr, reg);
}

export function ripemd160(l: VMLogic, len: bigint, ptr: bigint, reg: bigint): void {
  l.gas.payBase("ripemd160_base");
  const value = l.memoryOrRegister(ptr, len);
  l.gas.payPer("ripemd160_block", Math.floor((value.length + 8) / 64) + 1);
  l.setRegister(reg, ripemd(value));
}

const SECP256K1_N = secp256k1.Point.CURVE().n;

function bigEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function ecrecover(
  l: VMLogic,
  hashLen: bigint,
  hashPtr: bigint,
  sigLen: bigint,
  sigPtr: bigint,
  v: bigint,
  malleabilityFlag: bigint,
  reg: bigint,
): bigint {
  l.gas.payBase("ecrecover_base");
  const sig = l.memoryOrRegister(sigPtr, sigLen);
  if (sig.length !== 64) {
    throw hostErrors.ecrecoverError(
      `The length of the signature: ${sig.length}, exceeds the limit of 64 bytes`,
    );
  }
  if (v >= 4n) {
    throw hostErrors.ecrecoverError(`V recovery byte 0 through 3 are valid but was provided ${v}`);
  }
  const hash = l.memoryOrRegister(hashPtr, hashLen);
  if (hash.length !== 32) {
    throw hostErrors.ecrecoverError(
      `The length of the hash: ${hash.length}, exceeds the limit of 32 bytes`,
    );
  }
  if (malleabilityFlag !== 0n && malleabilityFlag !== 1n) {
    throw hostErrors.ecrecoverError(
      `Malleability flag needs to be 0 or 1, but is instead ${malleabilityFlag}`,
    );
  }
  const r = bigEndian(sig.subarray(0, 32));
  const s = bigEndian(sig.subarray(32, 64));
  const sLimit = malleabilityFlag === 1n ? SECP256K1_N / 2n + 1n : SECP256K1_N;
  if (!(r < SECP256K1_N && s < sLimit)) return 0n;
  let publicKey: Uint8Array;
  try {
    const point = secp256k1.Signature.fromBytes(sig, "compact")
      .addRecoveryBit(Number(v))
      .recoverPublicKey(hash);
    publicKey = point.toBytes(false).subarray(1);
  } catch {
    return 0n;
  }
  l.setRegister(reg, publicKey);
  return 1n;
}

export function ed25519_verify(
  l: VMLogic,
  sigLen: bigint,
  sigPtr: bigint,
  msgLen: bigint,
  msgPtr: bigint,
  keyLen: bigint,
  keyPtr: bigint,
): bigint {
  l.gas.payBase("ed25519_verify_base");
  const sig = l.memoryOrRegister(sigPtr, sigLen);
  if (sig.length !== 64) throw hostErrors.ed25519VerifyInvalidInput("invalid signature length");
  // ed25519-dalek 1.x rejected these bytes early; nearcore keeps the check for stable costs.
  if (((sig[63] as number) & 0b1110_0000) !== 0) return 0n;
  const message = l.memoryOrRegister(msgPtr, msgLen);
  l.gas.payPer("ed25519_verify_byte", message.length);
  const key = l.memoryOrRegister(keyPtr, keyLen);
  if (key.length !== 32) throw hostErrors.ed25519VerifyInvalidInput("invalid public key length");
  try {
    return ed25519.verify(sig, message, key, { zip215: false }) ? 1n : 0n;
  } catch {
    return 0n;
  }
}
