/**
 * alt_bn128 and BLS12-381 host functions against known vectors: nearcore's alt_bn128 unit tests
 * (runtime/near-vm-runner/src/logic/tests/alt_bn128.rs) and the EIP-2537 map-to-curve vectors
 * nearcore tests with (bls12381_test_vectors/fp_to_g1.csv, fp2_to_g2.csv; Fp2 re-ordered to
 * nearcore's c1 || c0), plus algebraic checks against @noble/curves and the error cases.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { describe, expect, test } from "vitest";
import { ext_costs, profileOf, run, wat } from "./helpers.ts";

/** A module whose exports run one curve function on the call's input, read from a register. */
const VOID_FNS = ["alt_bn128_g1_multiexp", "alt_bn128_g1_sum"];
const STATUS_FNS = [
  "bls12381_p1_sum",
  "bls12381_p2_sum",
  "bls12381_g1_multiexp",
  "bls12381_g2_multiexp",
  "bls12381_map_fp_to_g1",
  "bls12381_map_fp2_to_g2",
  "bls12381_p1_decompress",
  "bls12381_p2_decompress",
];
const CHECK_FNS = ["alt_bn128_pairing_check", "bls12381_pairing_check"];

const CURVES = wat(`(module
  (import "env" "input" (func $input (param i64)))
  (import "env" "read_register" (func $rr (param i64 i64)))
  (import "env" "register_len" (func $rl (param i64) (result i64)))
  (import "env" "write_register" (func $wr (param i64 i64 i64)))
  (import "env" "value_return" (func $ret (param i64 i64)))
  ${VOID_FNS.map((f) => `(import "env" "${f}" (func $${f} (param i64 i64 i64)))`).join("\n")}
  ${STATUS_FNS.map((f) => `(import "env" "${f}" (func $${f} (param i64 i64 i64) (result i64)))`).join("\n")}
  ${CHECK_FNS.map((f) => `(import "env" "${f}" (func $${f} (param i64 i64) (result i64)))`).join("\n")}
  (memory 16)
  ;; returns status (u64 LE) || register 1
  (func $answer (param $status i64)
    (i64.store (i32.const 0) (local.get $status))
    (call $rr (i64.const 1) (i64.const 8))
    (call $ret (i64.add (i64.const 8) (call $rl (i64.const 1))) (i64.const 0)))
  ${[...VOID_FNS, ...STATUS_FNS]
    .map(
      (f) => `(func (export "${f}")
    (call $input (i64.const 0))
    (call $wr (i64.const 1) (i64.const 0) (i64.const 0))
    ${
      VOID_FNS.includes(f)
        ? `(call $${f} (i64.const -1) (i64.const 0) (i64.const 1)) (call $answer (i64.const 0)))`
        : `(call $answer (call $${f} (i64.const -1) (i64.const 0) (i64.const 1))))`
    }`,
    )
    .join("\n")}
  ${CHECK_FNS.map(
    (f) => `(func (export "${f}")
    (call $input (i64.const 0))
    (call $wr (i64.const 1) (i64.const 0) (i64.const 0))
    (call $answer (call $${f} (i64.const -1) (i64.const 0))))`,
  ).join("\n")})`);

function call(fn: string, input: Uint8Array) {
  const out = run(CURVES, fn, { input });
  const data = out.returnData.kind === "value" ? out.returnData.data : new Uint8Array();
  const status =
    data.length >= 8 ? new DataView(data.buffer, data.byteOffset).getBigUint64(0, true) : -1n;
  return { out, status, result: hex(data.subarray(8)) };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** nearcore's le_bytes!: `0x…` is a little-endian u256, `5u8` one byte. */
function le(text: string): Uint8Array {
  const out: number[] = [];
  for (const token of text.split(/[\s,]+/).filter((t) => t !== "")) {
    if (token.endsWith("u8")) {
      out.push(Number(token.slice(0, -2)));
      continue;
    }
    let v = BigInt(token);
    for (let i = 0; i < 32; i++) {
      out.push(Number(v & 0xffn));
      v >>= 8n;
    }
  }
  return Uint8Array.from(out);
}

const BN_P1 =
  "0x2d6b17489d86fcd5f91e8e92eb55081d8cb4413e408047249ef4fb5baa1b518b 0x1e4d0a30dbadd9dad40f7847c7013754ded8d0371c052d19f01453f4ae1506d7";
const BN_THREE = [
  "0x26a1602aeb36e32dd1c534b1c014e920b138f4a8b87f2833ea6051c8cbd5eea2 0x01eb929f0ab6720df89837a84f2787d6d8a8bd97e0daab0576321d85143633ee",
  "0x15ad51e3d708bdf9ae99a3732af9354cc7b0f2ce71832b958b3e9b0215e63578 0x231d7b68932527abdeb71488bd5c1e339306c10490d3c65f7daaa651a367c618",
  "0x1302ac2f870ef22bdec4cd48058f309bcef761a7b40f78744157f3bbf25a016d 0x0c75e87050e62a4c3bf1e261da5a0f11c7ccaa090a0585365658f7a2b4b96fee",
];
const BN_THREE_SUM =
  "0x2ee5c54dee890fb79c9964f7a08c7295111990435dc3adff9fb6d63aadded21f 0x2c3fa1abf295e7df565379efcdb0398d08fc959a0a7e5d3f30118fefe9450a67";
const BN_PAIRING_G1 =
  "0x0763111c06b5066cc812f8e058d5b82a7bc356c83a1a5ab743ea4e7163d90a75 0x041068a8ed41f6755c1ad2d30aacc3974a4fae3293aee34c7103b4c073358624";
const BN_PAIRING_G2_A =
  "0x291aea4fac742aaf8772caa00c8763d509c3d6f20d1be64d73c10d06db031a01 0x1de7a958e4adb3a128cd3b942b13bc85ee4124f0dee6f4266b39707c81c06fd4 0x1e2d816ba8b96e5cb444883a2b095533becb805c654418fa2c65bba533a34311 0x195dd519dc841a301a14de412c520b858c01ccc7ba0bd4177dd85d4b116416bb";
const BN_PAIRING_G1_B =
  "0x1f1cebcff0a999ffa7c1b582e9afd6c875760fde2679e9fd830bf3979504b04f 0x179fe95fb3fb3807ebbad5ed2b40ddd06f7b73525382a64a43489606b3454a53";
const BN_PAIRING_G2_B =
  "0x201eef3c872a7313da79f6aa628cc9795314fbac78484fdae2eba5086755ad6d 0x204e0376b942fe92ba6e2746d07d62f5dede7b8b6e172fa89ea0c5c4ccabaa31 0x00e9f62300f921f5d4f2f7008aec59449a3f5e75add585ec4eccf04f5dc5b32f 0x17c150f0fb2ff472816b41868b98b9170233ee4647fe4bc41a1336c9a2c6567c";

describe("alt_bn128", () => {
  test("g1_multiexp: nearcore's vectors, cost per element", () => {
    expect(call("alt_bn128_g1_multiexp", le("")).result).toBe(hex(le("0x0 0x0")));
    expect(call("alt_bn128_g1_multiexp", le(`${BN_P1} 0x1`)).result).toBe(hex(le(BN_P1)));
    const two = le(`
      0x12b453155ca3be5d0b14a4804cc39a0b4635b06d512735350cd031051644d3ec 0x2944829dcfa7dd72bb04d12e46869e6a6c8162698f9a6c35724f91f597e25fc4 0x112b450c0769c7cd80ffa552aaab2153adb5646664ee091639784a7f887411f7
      0x032b2c8b9f1e7f5e53c262ae87ccd1366df1af019f2dbfe1a58a6749ba4b923f 0x0017741cde8d55ccce3a1dac210f531d22f574885226ea46fbbce4a4c75f7ed8 0x19e4956d3cf5e04f938bc9dee72f2fcab15934c7e0450ae15afee161606b071a`);
    const r = call("alt_bn128_g1_multiexp", two);
    expect(r.result).toBe(
      hex(
        le(
          "0x2923a9d452a047e0f24ab419d7893ecbf0c32a842afd88f991a6723decba82aa 0x2e3a00f94191675c0730510133c2fca248160750d87b5157c534146d4d260b61",
        ),
      ),
    );
    const p = profileOf(r.out);
    expect(p.ALT_BN128_G1_MULTIEXP_BASE).toBe(BigInt(ext_costs.alt_bn128_g1_multiexp_base));
    expect(p.ALT_BN128_G1_MULTIEXP_ELEMENT).toBe(
      2n * BigInt(ext_costs.alt_bn128_g1_multiexp_element),
    );
    expect(
      call("alt_bn128_g1_multiexp", le(BN_THREE.map((pt) => `${pt} 0x1`).join(" "))).result,
    ).toBe(hex(le(BN_THREE_SUM)));
  });

  test("g1_multiexp: errors name the bad input", () => {
    const error = (input: Uint8Array) =>
      call("alt_bn128_g1_multiexp", input).out.aborted?.view.ExecutionError;
    expect(error(new TextEncoder().encode("XXXX"))).toBe(
      "AltBn128 invalid input: slice of size 4 cannot be precisely split into chunks of size 96",
    );
    expect(
      error(
        le(
          "0x92 0x2944829dcfa7dd72bb04d12e46869e6a6c8162698f9a6c35724f91f597e25fc4 0x112b450c0769c7cd80ffa552aaab2153adb5646664ee091639784a7f887411f7",
        ),
      ),
    ).toMatch(/^AltBn128 invalid input: invalid g1: \[92, 0, 0,/);
    expect(
      error(
        le(
          "0x12b453155ca3be5d0b14a4804cc39a0b4635b06d512735350cd031051644d3ec 0x2944829dcfa7dd72bb04d12e46869e6a6c8162698f9a6c35724f91f597e25fc4 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ),
      ),
    ).toBe(`AltBn128 invalid input: invalid fr: [${new Array(32).fill("FF").join(", ")}]`);
  });

  test("g1_sum: signs, nearcore's vectors and errors", () => {
    expect(call("alt_bn128_g1_sum", le("")).result).toBe(hex(le("0x0 0x0")));
    expect(call("alt_bn128_g1_sum", le(`0u8 ${BN_P1}`)).result).toBe(hex(le(BN_P1)));
    const signed = le(`
      0u8 0x12b453155ca3be5d0b14a4804cc39a0b4635b06d512735350cd031051644d3ec 0x2944829dcfa7dd72bb04d12e46869e6a6c8162698f9a6c35724f91f597e25fc4
      1u8 0x032b2c8b9f1e7f5e53c262ae87ccd1366df1af019f2dbfe1a58a6749ba4b923f 0x304cda5602a44a5cea16280a60720540748bf609164ae0464063a772111d7e6f`);
    expect(call("alt_bn128_g1_sum", signed).result).toBe(
      hex(
        le(
          "0x1e2e53eecef3185d5c874e783cb184d302692a22c20f5f3b3993882e184d8fe8 0x03fc2454d3d88f9eac441e9b85a9041e925f30cca7a82d039d1ffb582bfb2004",
        ),
      ),
    );
    expect(call("alt_bn128_g1_sum", le(BN_THREE.map((pt) => `0u8 ${pt}`).join(" "))).result).toBe(
      hex(le(BN_THREE_SUM)),
    );
    // P + (-P) is the point at infinity, (0, 0).
    expect(call("alt_bn128_g1_sum", le(`0u8 ${BN_P1} 1u8 ${BN_P1}`)).result).toBe(
      hex(le("0x0 0x0")),
    );
    const error = (input: Uint8Array) =>
      call("alt_bn128_g1_sum", input).out.aborted?.view.ExecutionError;
    expect(error(Uint8Array.of(92))).toBe(
      "AltBn128 invalid input: slice of size 1 cannot be precisely split into chunks of size 65",
    );
    expect(error(le("0u8 0x111 0x222"))).toMatch(/^AltBn128 invalid input: invalid g1: \[11, 1,/);
    expect(error(le(`92u8 ${BN_P1}`))).toBe("AltBn128 invalid input: invalid bool: [5C]");
  });

  test("pairing_check: nearcore's vectors, subgroup check on G2", () => {
    expect(call("alt_bn128_pairing_check", le("")).status).toBe(1n);
    const holds = call(
      "alt_bn128_pairing_check",
      le(`${BN_PAIRING_G1} ${BN_PAIRING_G2_A} ${BN_PAIRING_G1_B} ${BN_PAIRING_G2_B}`),
    );
    expect(holds.status).toBe(1n);
    expect(profileOf(holds.out).ALT_BN128_PAIRING_CHECK_ELEMENT).toBe(
      2n * BigInt(ext_costs.alt_bn128_pairing_check_element),
    );
    expect(
      call(
        "alt_bn128_pairing_check",
        le(`${BN_PAIRING_G1} ${BN_PAIRING_G2_A} ${BN_PAIRING_G1} ${BN_PAIRING_G2_B}`),
      ).status,
    ).toBe(0n);
    const error = (input: Uint8Array) =>
      call("alt_bn128_pairing_check", input).out.aborted?.view.ExecutionError;
    expect(error(new TextEncoder().encode("XXXX"))).toBe(
      "AltBn128 invalid input: slice of size 4 cannot be precisely split into chunks of size 192",
    );
    expect(error(le("0x0 0x0 0x0 0x0 0x0 0x111"))).toMatch(/^AltBn128 invalid input: invalid g2:/);
  });
});

// EIP-2537 vectors (fp_to_g1.csv, fp2_to_g2.csv first rows), 64-byte padding removed.
const FP_TO_G1 = {
  input:
    "14406e5bfb9209256a3820879a29ac2f62d6aca82324bf3ae2aa7d3c54792043bd8c791fccdb080c1a52dc68b8b69350",
  x: "0d7721bcdb7ce1047557776eb2659a444166dc6dd55c7ca6e240e21ae9aa18f529f04ac31d861b54faf3307692545db7",
  y: "108286acbdf4384f67659a8abe89e712a504cb3ce1cba07a716869025d60d499a00d1da8cdc92958918c222ea93d87f0",
};
const FP2_TO_G2 = {
  c0: "14406e5bfb9209256a3820879a29ac2f62d6aca82324bf3ae2aa7d3c54792043bd8c791fccdb080c1a52dc68b8b69350",
  c1: "0e885bb33996e12f07da69073e2c0cc880bc8eff26d2a724299eb12d54f4bcf26f4748bb020e80a7e3794a7b0e47a641",
  x0: "0d029393d3a13ff5b26fe52bd8953768946c5510f9441f1136f1e938957882db6adbd7504177ee49281ecccba596f2bf",
  x1: "1993f668fb1ae603aefbb1323000033fcb3b65d8ed3bf09c84c61e27704b745f540299a1872cd697ae45a5afd780f1d6",
  y0: "079cb41060ef7a128d286c9ef8638689a49ca19da8672ea5c47b6ba6dbde193ee835d3b87a76a689966037c07159c10d",
  y1: "17c688ae9a8b59a7069c27f2d58dd2196cb414f4fb89da8510518a1142ab19d158badd1c3bad03408fafb1669903cd6c",
};

const { G1, G2 } = bls12_381;
const P_MODULUS = bls12_381.fields.Fp.ORDER;
const beFp = (v: bigint) => unhex(v.toString(16).padStart(96, "0"));
const g1Raw = (p: InstanceType<typeof G1.Point>) => {
  const { x, y } = p.toAffine();
  return concat(beFp(x), beFp(y));
};
const g2Raw = (p: InstanceType<typeof G2.Point>) => {
  const { x, y } = p.toAffine();
  return concat(beFp(x.c1), beFp(x.c0), beFp(y.c1), beFp(y.c0));
};
const scalarLe = (v: bigint) => {
  const out = new Uint8Array(32);
  let x = v;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
};
const INFINITY_P1 = concat(Uint8Array.of(0x40), new Uint8Array(95));
const INFINITY_P2 = concat(Uint8Array.of(0x40), new Uint8Array(191));

describe("bls12381", () => {
  const g = G1.Point.BASE;
  const h = G2.Point.BASE;

  test("map_fp_to_g1 and map_fp2_to_g2: EIP-2537 vectors; a non-canonical element returns 1", () => {
    const one = call("bls12381_map_fp_to_g1", unhex(FP_TO_G1.input));
    expect(one.status).toBe(0n);
    expect(one.result).toBe(FP_TO_G1.x + FP_TO_G1.y);
    const two = call("bls12381_map_fp2_to_g2", unhex(FP2_TO_G2.c1 + FP2_TO_G2.c0));
    expect(two.status).toBe(0n);
    expect(two.result).toBe(FP2_TO_G2.x1 + FP2_TO_G2.x0 + FP2_TO_G2.y1 + FP2_TO_G2.y0);
    expect(profileOf(two.out).BLS12381_MAP_FP2_TO_G2_ELEMENT).toBe(
      BigInt(ext_costs.bls12381_map_fp2_to_g2_element),
    );
    expect(call("bls12381_map_fp_to_g1", beFp(P_MODULUS)).status).toBe(1n);
    expect(call("bls12381_map_fp_to_g1", new Uint8Array(47)).out.aborted?.view.ExecutionError).toBe(
      "BLS12-381 invalid input: Incorrect input length for bls12381_map_fp_to_g1: 47 is not divisible by 48",
    );
  });

  test("p1_sum and p2_sum: signs, infinity, bad points and signs return 1", () => {
    const r = call(
      "bls12381_p1_sum",
      concat(Uint8Array.of(0), g1Raw(g.multiply(5n)), Uint8Array.of(1), g1Raw(g.multiply(2n))),
    );
    expect(r.status).toBe(0n);
    expect(r.result).toBe(hex(g1Raw(g.multiply(3n))));
    expect(profileOf(r.out).BLS12381_P1_SUM_ELEMENT).toBe(
      2n * BigInt(ext_costs.bls12381_p1_sum_element),
    );
    expect(call("bls12381_p1_sum", new Uint8Array(0)).result).toBe(hex(INFINITY_P1));
    expect(
      call("bls12381_p1_sum", concat(Uint8Array.of(0), g1Raw(g), Uint8Array.of(1), g1Raw(g)))
        .result,
    ).toBe(hex(INFINITY_P1));
    expect(call("bls12381_p1_sum", concat(Uint8Array.of(2), g1Raw(g))).status).toBe(1n);
    const offCurve = g1Raw(g);
    offCurve[95] = (offCurve[95] as number) ^ 1;
    expect(call("bls12381_p1_sum", concat(Uint8Array.of(0), offCurve)).status).toBe(1n);
    // (0, 2) is on y² = x³ + 4 but blst reports it as not in the group: refused at protocol 77.
    expect(call("bls12381_p1_sum", concat(Uint8Array.of(0), beFp(0n), beFp(2n))).status).toBe(1n);
    expect(call("bls12381_p1_sum", new Uint8Array(96)).out.aborted?.view.ExecutionError).toBe(
      "BLS12-381 invalid input: Incorrect input length for bls12381_p1_sum: 96 is not divisible by 97",
    );
    const r2 = call(
      "bls12381_p2_sum",
      concat(Uint8Array.of(0), g2Raw(h.multiply(7n)), Uint8Array.of(0), g2Raw(h)),
    );
    expect(r2.result).toBe(hex(g2Raw(h.multiply(8n))));
    expect(call("bls12381_p2_sum", concat(Uint8Array.of(0), INFINITY_P2)).result).toBe(
      hex(INFINITY_P2),
    );
  });

  test("g1_multiexp and g2_multiexp: scalars little-endian, reduced by the group order", () => {
    const r = call(
      "bls12381_g1_multiexp",
      concat(g1Raw(g), scalarLe(3n), g1Raw(g.multiply(4n)), scalarLe(5n)),
    );
    expect(r.result).toBe(hex(g1Raw(g.multiply(23n))));
    expect(profileOf(r.out).BLS12381_G1_MULTIEXP_ELEMENT).toBe(
      2n * BigInt(ext_costs.bls12381_g1_multiexp_element),
    );
    const order = bls12_381.fields.Fr.ORDER;
    expect(call("bls12381_g1_multiexp", concat(g1Raw(g), scalarLe(order + 2n))).result).toBe(
      hex(g1Raw(g.multiply(2n))),
    );
    expect(call("bls12381_g2_multiexp", concat(g2Raw(h), scalarLe(9n))).result).toBe(
      hex(g2Raw(h.multiply(9n))),
    );
    expect(call("bls12381_g1_multiexp", concat(g1Raw(g), scalarLe(0n))).result).toBe(
      hex(INFINITY_P1),
    );
  });

  test("multiexp refuses points outside the subgroup that sum accepts", () => {
    // x = 1: y² = 5 has a root in Fp; this point is on the curve but not in G1.
    const Fp = bls12_381.fields.Fp;
    let x = 1n;
    let y = 0n;
    for (; ; x++) {
      try {
        y = Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 4n));
        break;
      } catch {}
    }
    const point = G1.Point.fromAffine({ x, y });
    expect(point.isTorsionFree()).toBe(false);
    const raw = concat(beFp(x), beFp(y));
    expect(call("bls12381_p1_sum", concat(Uint8Array.of(0), raw)).status).toBe(0n);
    expect(call("bls12381_g1_multiexp", concat(raw, scalarLe(1n))).status).toBe(1n);
  });

  test("p1_decompress and p2_decompress: both signs, infinity, bad flags", () => {
    const points = [g.multiply(11n), g.multiply(11n).negate()];
    const compressed = concat(...points.map((p) => p.toBytes(true)));
    const r = call("bls12381_p1_decompress", compressed);
    expect(r.result).toBe(hex(concat(...points.map(g1Raw))));
    expect(profileOf(r.out).BLS12381_P1_DECOMPRESS_ELEMENT).toBe(
      2n * BigInt(ext_costs.bls12381_p1_decompress_element),
    );
    const q = h.multiply(13n).negate();
    expect(call("bls12381_p2_decompress", q.toBytes(true)).result).toBe(hex(g2Raw(q)));
    const infinity = concat(Uint8Array.of(0xc0), new Uint8Array(47));
    expect(call("bls12381_p1_decompress", infinity).result).toBe(hex(INFINITY_P1));
    const uncompressedFlag = g.toBytes(true);
    uncompressedFlag[0] = (uncompressedFlag[0] as number) & 0x7f;
    expect(call("bls12381_p1_decompress", uncompressedFlag).status).toBe(1n);
  });

  test("pairing_check: e(aG, bH) · e(-abG, H) = 1; 2 when not; 1 for a bad point", () => {
    const holds = call(
      "bls12381_pairing_check",
      concat(
        g1Raw(g.multiply(6n)),
        g2Raw(h.multiply(7n)),
        g1Raw(g.multiply(42n).negate()),
        g2Raw(h),
      ),
    );
    expect(holds.status).toBe(0n);
    expect(profileOf(holds.out).BLS12381_PAIRING_ELEMENT).toBe(
      2n * BigInt(ext_costs.bls12381_pairing_element),
    );
    expect(
      call(
        "bls12381_pairing_check",
        concat(
          g1Raw(g.multiply(6n)),
          g2Raw(h.multiply(7n)),
          g1Raw(g.multiply(41n).negate()),
          g2Raw(h),
        ),
      ).status,
    ).toBe(2n);
    expect(call("bls12381_pairing_check", concat(INFINITY_P1, g2Raw(h))).status).toBe(0n);
    const bad = g1Raw(g);
    bad[0] = (bad[0] as number) | 0x80;
    expect(call("bls12381_pairing_check", concat(bad, g2Raw(h))).status).toBe(1n);
  });
});
