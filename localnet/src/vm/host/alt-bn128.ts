/**
 * alt_bn128 (BN254) host functions as nearcore's logic/alt_bn128.rs: little-endian u256
 * coordinates, (0, 0) for the point at infinity, G2 points checked for subgroup membership, and
 * AltBn128InvalidInput errors naming the bad bytes in Rust's `{:X?}` form. Costs: base, then the
 * input read, then per element (after the input length is checked).
 */
import { bn254 } from "@noble/curves/bn254.js";
import type { ExtCostName } from "../../config/runtime-config.ts";
import { hostErrors } from "../errors.ts";
import type { VMLogic } from "../logic.ts";

const SCALAR = 32;
const POINT = 2 * SCALAR;
const G1_MULTIEXP_ITEM = POINT + SCALAR;
const G1_SUM_ITEM = 1 + POINT;
const PAIRING_ITEM = POINT + 2 * POINT;

const { Fp, Fp2, Fp12 } = bn254.fields;
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
type G1Point = InstanceType<typeof G1>;
type G2Point = InstanceType<typeof G2>;
const FQ_MODULUS = Fp.ORDER;
const FR_MODULUS = bn254.fields.Fr.ORDER;
const G1_B = 3n;
const G2_B = G2.CURVE().b;

/** Rust's `{:X?}` of a byte slice: `[0, 1A, FF]`. */
export function rustHexBytes(bytes: Uint8Array): string {
  return `[${Array.from(bytes, (b) => b.toString(16).toUpperCase()).join(", ")}]`;
}

function invalid(what: string, bytes: Uint8Array): Error {
  return hostErrors.altBn128InvalidInput(`${what}: ${rustHexBytes(bytes)}`);
}

function leToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  return v;
}

function bigIntToLe(value: bigint, out: Uint8Array, offset: number): void {
  let v = value;
  for (let i = 0; i < SCALAR; i++) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** nearcore's split_elements: the input must be whole elements. */
function split(data: Uint8Array, size: number): Uint8Array[] {
  if (data.length % size !== 0) {
    throw hostErrors.altBn128InvalidInput(
      `slice of size ${data.length} cannot be precisely split into chunks of size ${size}`,
    );
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

function decodeFq(raw: Uint8Array): bigint {
  const v = leToBigInt(raw);
  if (v >= FQ_MODULUS) throw invalid("invalid fq", raw);
  return v;
}

function decodeFr(raw: Uint8Array): bigint {
  const v = leToBigInt(raw);
  if (v >= FR_MODULUS) throw invalid("invalid fr", raw);
  return v;
}

function decodeG1(raw: Uint8Array): G1Point {
  const x = decodeFq(raw.subarray(0, SCALAR));
  const y = decodeFq(raw.subarray(SCALAR, POINT));
  if (x === 0n && y === 0n) return G1.ZERO;
  // G1's cofactor is 1: on the curve is in the group.
  if (Fp.sqr(y) !== Fp.add(Fp.mul(Fp.sqr(x), x), G1_B)) throw invalid("invalid g1", raw);
  return G1.fromAffine({ x, y });
}

function decodeFq2(raw: Uint8Array) {
  const c0 = decodeFq(raw.subarray(0, SCALAR));
  const c1 = decodeFq(raw.subarray(SCALAR, POINT));
  return Fp2.create({ c0, c1 });
}

function decodeG2(raw: Uint8Array): G2Point {
  const x = decodeFq2(raw.subarray(0, POINT));
  const y = decodeFq2(raw.subarray(POINT, 2 * POINT));
  if (Fp2.is0(x) && Fp2.is0(y)) return G2.ZERO;
  const onCurve = Fp2.eql(Fp2.sqr(y), Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2_B));
  if (!onCurve) throw invalid("invalid g2", raw);
  const point = G2.fromAffine({ x, y });
  if (!point.isTorsionFree()) throw invalid("invalid g2", raw);
  return point;
}

function decodeBool(raw: Uint8Array): boolean {
  if (raw[0] === 0) return false;
  if (raw[0] === 1) return true;
  throw invalid("invalid bool", raw);
}

function encodeG1(point: G1Point): Uint8Array {
  const out = new Uint8Array(POINT);
  if (point.is0()) return out;
  const { x, y } = point.toAffine();
  bigIntToLe(x, out, 0);
  bigIntToLe(y, out, SCALAR);
  return out;
}

function readElements(
  l: VMLogic,
  base: ExtCostName,
  perElement: ExtCostName,
  itemSize: number,
  len: bigint,
  ptr: bigint,
): Uint8Array[] {
  l.gas.payBase(base);
  const data = l.memoryOrRegister(ptr, len);
  const elements = split(data, itemSize);
  l.gas.payPer(perElement, elements.length);
  return elements;
}

export function alt_bn128_g1_multiexp(l: VMLogic, len: bigint, ptr: bigint, reg: bigint): void {
  const elements = readElements(
    l,
    "alt_bn128_g1_multiexp_base",
    "alt_bn128_g1_multiexp_element",
    G1_MULTIEXP_ITEM,
    len,
    ptr,
  );
  const terms = elements.map((e) => ({
    point: decodeG1(e.subarray(0, POINT)),
    scalar: decodeFr(e.subarray(POINT)),
  }));
  let sum = G1.ZERO;
  for (const { point, scalar } of terms) sum = sum.add(point.multiplyUnsafe(scalar));
  l.setRegister(reg, encodeG1(sum));
}

export function alt_bn128_g1_sum(l: VMLogic, len: bigint, ptr: bigint, reg: bigint): void {
  const elements = readElements(
    l,
    "alt_bn128_g1_sum_base",
    "alt_bn128_g1_sum_element",
    G1_SUM_ITEM,
    len,
    ptr,
  );
  const terms = elements.map((e) => ({
    negative: decodeBool(e.subarray(0, 1)),
    point: decodeG1(e.subarray(1)),
  }));
  let sum = G1.ZERO;
  for (const { negative, point } of terms) sum = negative ? sum.subtract(point) : sum.add(point);
  l.setRegister(reg, encodeG1(sum));
}

export function alt_bn128_pairing_check(l: VMLogic, len: bigint, ptr: bigint): bigint {
  const elements = readElements(
    l,
    "alt_bn128_pairing_check_base",
    "alt_bn128_pairing_check_element",
    PAIRING_ITEM,
    len,
    ptr,
  );
  const pairs = elements.map((e) => ({
    g1: decodeG1(e.subarray(0, POINT)),
    g2: decodeG2(e.subarray(POINT)),
  }));
  // e(O, Q) = e(P, O) = 1: such pairs leave the product unchanged.
  const nonZero = pairs.filter(({ g1, g2 }) => !g1.is0() && !g2.is0());
  if (nonZero.length === 0) return 1n;
  return Fp12.eql(bn254.pairingBatch(nonZero), Fp12.ONE) ? 1n : 0n;
}
