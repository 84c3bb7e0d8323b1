/**
 * BLS12-381 host functions as nearcore's logic/bls12381.rs at protocol 77 (blst's encodings):
 * big-endian Fp, Fp2 as c1 then c0, uncompressed points with the 0x40 infinity flag, compressed
 * points with 0x80 (compressed), 0x40 (infinity) and 0x20 (larger y). Bad points, signs or field
 * elements return 1 (pairing: 1 bad input, 0 product is one, 2 it is not); an input that is not a
 * whole number of elements is a BLS12381InvalidInput error. Costs: base, the input read, then per
 * element (the input length divided by the element size), then the register write.
 *
 * Protocol 77 predates NEP-488: sum and decompress take points on the curve outside the subgroup,
 * except (0, ±y), which blst reports as not in the group and nearcore then refused.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import type { ExtCostName } from "../../config/runtime-config.ts";
import { hostErrors } from "../errors.ts";
import type { VMLogic } from "../logic.ts";

const FP = 48;
const P1 = 2 * FP;
const P2 = 4 * FP;
const SCALAR = 32;

const { Fp, Fp2, Fp12, Fr } = bls12_381.fields;
const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;
type G1Point = InstanceType<typeof G1>;
type G2Point = InstanceType<typeof G2>;
type Fp2Value = ReturnType<typeof Fp2.create>;
const P = Fp.ORDER;
const HALF_P = (P - 1n) / 2n;
const G1_B = G1.CURVE().b;
const G2_B = G2.CURVE().b;
// The hashers' mapToCurve (RFC 9380 map_to_curve, then clear_cofactor, as blst's map_to_g1/g2)
// returns a point; its declared type is the bare map's.
const mapToG1 = bls12_381.G1.mapToCurve as unknown as (u: bigint) => G1Point;
const mapToG2 = bls12_381.G2.mapToCurve as unknown as (u: [bigint, bigint]) => G2Point;

/** A function's result: bytes for the register, or 1 for a bad element. */
type Outcome = Uint8Array | null;

function beToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function leToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  return v;
}

function putBe(value: bigint, out: Uint8Array, offset: number): void {
  let v = value;
  for (let i = FP - 1; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function allZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** A canonical big-endian Fp element, or null when it is not below the modulus. */
function readFp(bytes: Uint8Array): bigint | null {
  const v = beToBigInt(bytes);
  return v < P ? v : null;
}

function readFp2(bytes: Uint8Array): Fp2Value | null {
  const c1 = readFp(bytes.subarray(0, FP));
  const c0 = readFp(bytes.subarray(FP, 2 * FP));
  return c1 === null || c0 === null ? null : Fp2.create({ c0, c1 });
}

/** Whether y is the larger of ±y (the 0x20 flag of a compressed point). */
function fpIsLarger(y: bigint): boolean {
  return y > HALF_P;
}

function fp2IsLarger(y: Fp2Value): boolean {
  return y.c1 !== 0n ? y.c1 > HALF_P : y.c0 > HALF_P;
}

/** The flags byte of an uncompressed point: 0 for a point, the exact infinity encoding, or bad. */
function uncompressedKind(bytes: Uint8Array): "point" | "infinity" | null {
  const first = bytes[0] as number;
  if ((first & 0xe0) === 0) return "point";
  if ((first & 0x80) === 0 && (first & 0x40) !== 0) {
    return (first & 0x3f) === 0 && allZero(bytes.subarray(1)) ? "infinity" : null;
  }
  return null;
}

function parseP1(bytes: Uint8Array): G1Point | null {
  const kind = uncompressedKind(bytes);
  if (kind === "infinity") return G1.ZERO;
  if (kind === null) return null;
  const x = readFp(bytes.subarray(0, FP));
  const y = readFp(bytes.subarray(FP, P1));
  if (x === null || y === null) return null;
  if (Fp.sqr(y) !== Fp.add(Fp.mul(Fp.sqr(x), x), G1_B)) return null;
  if (x === 0n) return null;
  return G1.fromAffine({ x, y });
}

function parseP2(bytes: Uint8Array): G2Point | null {
  const kind = uncompressedKind(bytes);
  if (kind === "infinity") return G2.ZERO;
  if (kind === null) return null;
  const x = readFp2(bytes.subarray(0, 2 * FP));
  const y = readFp2(bytes.subarray(2 * FP, P2));
  if (x === null || y === null) return null;
  if (!Fp2.eql(Fp2.sqr(y), Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2_B))) return null;
  if (Fp2.is0(x)) return null;
  return G2.fromAffine({ x, y });
}

function serializeP1(point: G1Point): Uint8Array {
  const out = new Uint8Array(P1);
  if (point.is0()) {
    out[0] = 0x40;
    return out;
  }
  const { x, y } = point.toAffine();
  putBe(x, out, 0);
  putBe(y, out, FP);
  return out;
}

function serializeP2(point: G2Point): Uint8Array {
  const out = new Uint8Array(P2);
  if (point.is0()) {
    out[0] = 0x40;
    return out;
  }
  const { x, y } = point.toAffine();
  putBe(x.c1, out, 0);
  putBe(x.c0, out, FP);
  putBe(y.c1, out, 2 * FP);
  putBe(y.c0, out, 3 * FP);
  return out;
}

/** A compressed point's flags: null for a bad encoding, else infinity or the sign of y. */
function compressedFlags(bytes: Uint8Array): { infinity: true } | { larger: boolean } | null {
  const first = bytes[0] as number;
  if ((first & 0x80) === 0) return null;
  if ((first & 0x40) !== 0) {
    return (first & 0x3f) === 0 && allZero(bytes.subarray(1)) ? { infinity: true } : null;
  }
  return { larger: (first & 0x20) !== 0 };
}

function decompressP1(bytes: Uint8Array): G1Point | null {
  const flags = compressedFlags(bytes);
  if (flags === null) return null;
  if ("infinity" in flags) return G1.ZERO;
  const raw = bytes.slice();
  raw[0] = (raw[0] as number) & 0x1f;
  const x = readFp(raw);
  if (x === null) return null;
  let y: bigint;
  try {
    y = Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), G1_B));
  } catch {
    return null;
  }
  if (fpIsLarger(y) !== flags.larger) y = Fp.neg(y);
  if (x === 0n) return null;
  return G1.fromAffine({ x, y });
}

function decompressP2(bytes: Uint8Array): G2Point | null {
  const flags = compressedFlags(bytes);
  if (flags === null) return null;
  if ("infinity" in flags) return G2.ZERO;
  const raw = bytes.slice();
  raw[0] = (raw[0] as number) & 0x1f;
  const x = readFp2(raw);
  if (x === null) return null;
  let y: Fp2Value;
  try {
    y = Fp2.sqrt(Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2_B));
  } catch {
    return null;
  }
  if (fp2IsLarger(y) !== flags.larger) y = Fp2.neg(y);
  if (Fp2.is0(x)) return null;
  return G2.fromAffine({ x, y });
}

function chunks(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

function checkInputSize(data: Uint8Array, size: number, name: string): void {
  if (data.length % size !== 0) {
    throw hostErrors.bls12381InvalidInput(
      `Incorrect input length for ${name}: ${data.length} is not divisible by ${size}`,
    );
  }
}

interface Curve<Pt> {
  size: number;
  zero: Pt;
  parse(bytes: Uint8Array): Pt | null;
  decompress(bytes: Uint8Array): Pt | null;
  serialize(point: Pt): Uint8Array;
  inGroup(point: Pt): boolean;
}

interface PointOps<Pt> {
  add(other: Pt): Pt;
  negate(): Pt;
  multiplyUnsafe(scalar: bigint): Pt;
}

const CURVE_1: Curve<G1Point> = {
  size: P1,
  zero: G1.ZERO,
  parse: parseP1,
  decompress: decompressP1,
  serialize: serializeP1,
  inGroup: (p) => p.is0() || p.isTorsionFree(),
};

const CURVE_2: Curve<G2Point> = {
  size: P2,
  zero: G2.ZERO,
  parse: parseP2,
  decompress: decompressP2,
  serialize: serializeP2,
  inGroup: (p) => p.is0() || p.isTorsionFree(),
};

function sum<Pt extends PointOps<Pt>>(curve: Curve<Pt>, name: string, data: Uint8Array): Outcome {
  checkInputSize(data, 1 + curve.size, name);
  let acc = curve.zero;
  for (const item of chunks(data, 1 + curve.size)) {
    const point = curve.parse(item.subarray(1));
    if (point === null) return null;
    const sign = item[0];
    if (sign !== 0 && sign !== 1) return null;
    acc = acc.add(sign === 1 ? point.negate() : point);
  }
  return curve.serialize(acc);
}

function multiexp<Pt extends PointOps<Pt>>(
  curve: Curve<Pt>,
  name: string,
  data: Uint8Array,
): Outcome {
  checkInputSize(data, curve.size + SCALAR, name);
  let acc = curve.zero;
  for (const item of chunks(data, curve.size + SCALAR)) {
    const point = curve.parse(item.subarray(0, curve.size));
    if (point === null || !curve.inGroup(point)) return null;
    // The point has order r, so the 256-bit scalar acts modulo r.
    const scalar = Fr.create(leToBigInt(item.subarray(curve.size)));
    acc = acc.add(point.multiplyUnsafe(scalar));
  }
  return curve.serialize(acc);
}

function decompress<Pt>(curve: Curve<Pt>, name: string, data: Uint8Array): Outcome {
  const size = curve.size / 2;
  checkInputSize(data, size, name);
  const out = new Uint8Array((data.length / size) * curve.size);
  for (const [i, item] of chunks(data, size).entries()) {
    const point = curve.decompress(item);
    if (point === null) return null;
    out.set(curve.serialize(point), i * curve.size);
  }
  return out;
}

function mapFpToG1(data: Uint8Array): Outcome {
  checkInputSize(data, FP, "bls12381_map_fp_to_g1");
  const out = new Uint8Array((data.length / FP) * P1);
  for (const [i, item] of chunks(data, FP).entries()) {
    const u = readFp(item);
    if (u === null) return null;
    out.set(serializeP1(mapToG1(u)), i * P1);
  }
  return out;
}

function mapFp2ToG2(data: Uint8Array): Outcome {
  checkInputSize(data, 2 * FP, "bls12381_map_fp2_to_g2");
  const out = new Uint8Array((data.length / (2 * FP)) * P2);
  for (const [i, item] of chunks(data, 2 * FP).entries()) {
    const u = readFp2(item);
    if (u === null) return null;
    out.set(serializeP2(mapToG2([u.c0, u.c1])), i * P2);
  }
  return out;
}

/** 0: the pairing product is one; 1: a bad point; 2: the product is not one. */
function pairingCheck(data: Uint8Array): bigint {
  checkInputSize(data, P1 + P2, "bls12381_pairing_check");
  const pairs: { g1: G1Point; g2: G2Point }[] = [];
  for (const item of chunks(data, P1 + P2)) {
    const g1 = parseP1(item.subarray(0, P1));
    if (g1 === null || !CURVE_1.inGroup(g1)) return 1n;
    const g2 = parseP2(item.subarray(P1));
    if (g2 === null || !CURVE_2.inGroup(g2)) return 1n;
    // e(O, Q) = e(P, O) = 1: such pairs leave the product unchanged.
    if (!g1.is0() && !g2.is0()) pairs.push({ g1, g2 });
  }
  if (pairs.length === 0) return 0n;
  return Fp12.eql(bls12_381.pairingBatch(pairs), Fp12.ONE) ? 0n : 2n;
}

/** nearcore's bls12381_impl: charges, reads, runs; 0 with the result in `reg`, or 1. */
function hostFunction(
  base: ExtCostName,
  perElement: ExtCostName,
  itemSize: number,
  work: (data: Uint8Array) => Outcome,
) {
  return (l: VMLogic, len: bigint, ptr: bigint, reg: bigint): bigint => {
    l.gas.payBase(base);
    const data = l.memoryOrRegister(ptr, len);
    l.gas.payPer(perElement, Math.floor(data.length / itemSize));
    const result = work(data);
    if (result === null) return 1n;
    l.setRegister(reg, result);
    return 0n;
  };
}

export const bls12381_p1_sum = hostFunction(
  "bls12381_p1_sum_base",
  "bls12381_p1_sum_element",
  1 + P1,
  (d) => sum(CURVE_1, "bls12381_p1_sum", d),
);
export const bls12381_p2_sum = hostFunction(
  "bls12381_p2_sum_base",
  "bls12381_p2_sum_element",
  1 + P2,
  (d) => sum(CURVE_2, "bls12381_p2_sum", d),
);
export const bls12381_g1_multiexp = hostFunction(
  "bls12381_g1_multiexp_base",
  "bls12381_g1_multiexp_element",
  P1 + SCALAR,
  (d) => multiexp(CURVE_1, "bls12381_p1_multiexp", d),
);
export const bls12381_g2_multiexp = hostFunction(
  "bls12381_g2_multiexp_base",
  "bls12381_g2_multiexp_element",
  P2 + SCALAR,
  (d) => multiexp(CURVE_2, "bls12381_p2_multiexp", d),
);
export const bls12381_map_fp_to_g1 = hostFunction(
  "bls12381_map_fp_to_g1_base",
  "bls12381_map_fp_to_g1_element",
  FP,
  mapFpToG1,
);
export const bls12381_map_fp2_to_g2 = hostFunction(
  "bls12381_map_fp2_to_g2_base",
  "bls12381_map_fp2_to_g2_element",
  2 * FP,
  mapFp2ToG2,
);
export const bls12381_p1_decompress = hostFunction(
  "bls12381_p1_decompress_base",
  "bls12381_p1_decompress_element",
  P1 / 2,
  (d) => decompress(CURVE_1, "bls12381_p1_decompress", d),
);
export const bls12381_p2_decompress = hostFunction(
  "bls12381_p2_decompress_base",
  "bls12381_p2_decompress_element",
  P2 / 2,
  (d) => decompress(CURVE_2, "bls12381_p2_decompress", d),
);

export function bls12381_pairing_check(l: VMLogic, len: bigint, ptr: bigint): bigint {
  l.gas.payBase("bls12381_pairing_base");
  const data = l.memoryOrRegister(ptr, len);
  l.gas.payPer("bls12381_pairing_element", Math.floor(data.length / (P1 + P2)));
  return pairingCheck(data);
}
