/**
 * Verification time per quote, on real quotes of test/fixtures/tdx (version 4 with a TD report
 * 1.0, version 5 with a TD report 1.5), and of the pieces: parsing, one P-256 signature check,
 * the GPU tokens, and the whole evidence check.
 * Run: npm run bench -w @gpu-market/verifier [-- ITERATIONS]
 */
import { cpus } from "node:os";
import { checkEvidence } from "../src/check.ts";
import { encodeEvidence } from "../src/evidence.ts";
import { verifyGpuEvidence } from "../src/nvidia/token.ts";
import { DEFAULT_POLICY } from "../src/policy.ts";
import { rawKeyToPoint, verifyP256 } from "../src/tdx/ecdsa.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
import { verifyTdxQuote } from "../src/tdx/verify.ts";
import {
  collateral,
  NOW,
  QUOTE_REPORT_DATA,
  quote,
  rootCa,
  V5_NOW,
  v5Collateral,
  v5Quote,
} from "../test/fixtures.ts";
import { nrasResult, testSigner } from "../test/nvidia-helpers.ts";

const iterations = Number(process.argv[2] ?? "50");

interface Figure {
  name: string;
  samples: number[];
}

async function measure(name: string, fn: () => unknown | Promise<unknown>): Promise<Figure> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return { name, samples };
}

/** Times several operations in turn, iteration by iteration, so that load swings hit them alike. */
async function measureInTurn(
  named: [string, () => unknown | Promise<unknown>][],
): Promise<Figure[]> {
  const figures = named.map(([name]) => ({ name, samples: [] as number[] }));
  for (let i = 0; i < iterations; i++) {
    for (const [k, [, fn]] of named.entries()) {
      const start = performance.now();
      await fn();
      figures[k]?.samples.push(performance.now() - start);
    }
  }
  return figures;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const q = quote();
const col = collateral();
const q5 = v5Quote("upToDate");
const col5 = v5Collateral();
const root = rootCa();
const nonce = "11".repeat(32);
const signer = await testSigner();
const gpuText = await nrasResult(signer, nonce);
const bundle = encodeEvidence({ tdxQuote: q, gpuEvidence: gpuText });
const parsed = parseTdxQuote(q);

const coldStart = performance.now();
await verifyTdxQuote(q, col, { rootCa: root, now: NOW });
const cold = performance.now() - coldStart;

const figures = [
  await measure("parse quote v4 (TD report 1.0)", () => parseTdxQuote(q)),
  await measure("parse quote v5 (TD report 1.5)", () => parseTdxQuote(q5)),
  await measure("one P-256 signature (@noble/curves)", () =>
    verifyP256(parsed.signature, parsed.signedBytes, rawKeyToPoint(parsed.attestationKey)),
  ),
  // v4 and v5 alternate: their difference is the quote's, not the machine's load.
  ...(await measureInTurn([
    ["TDX quote v4, full verification", () => verifyTdxQuote(q, col, { rootCa: root, now: NOW })],
    [
      "TDX quote v5, full verification",
      () => verifyTdxQuote(q5, col5, { rootCa: root, now: V5_NOW }),
    ],
  ])),
  await measure("NVIDIA NRAS tokens (2 x ES384)", () =>
    verifyGpuEvidence(gpuText, { jwks: signer.jwks, nonce, now: NOW }),
  ),
  await measure("whole evidence (TDX v4 + GPU + binding + policy)", () =>
    checkEvidence(
      bundle,
      { teeType: "tdx", reportData: QUOTE_REPORT_DATA, nonce },
      { rootCa: root, collateral: async () => col, nvidiaJwks: signer.jwks, now: NOW },
      DEFAULT_POLICY,
    ),
  ),
];

console.log(
  `verifier bench: ${iterations} iterations each, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}`,
);
console.log(`first TDX verification (cold, includes lazy init): ${cold.toFixed(1)} ms`);
console.log(
  `${"operation".padEnd(48)}${"mean ms".padStart(10)}${"p50 ms".padStart(10)}${"p95 ms".padStart(10)}${"per s".padStart(10)}`,
);
for (const f of figures) {
  const sorted = [...f.samples].sort((a, b) => a - b);
  const mean = f.samples.reduce((a, b) => a + b, 0) / f.samples.length;
  console.log(
    `${f.name.padEnd(48)}${mean.toFixed(2).padStart(10)}${percentile(sorted, 50).toFixed(2).padStart(10)}` +
      `${percentile(sorted, 95).toFixed(2).padStart(10)}${(1000 / mean).toFixed(1).padStart(10)}`,
  );
}
