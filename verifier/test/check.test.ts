import { beforeAll, describe, expect, test } from "vitest";
import { checkEvidence, type EvidenceContext, type TrustInputs } from "../src/check.ts";
import { decodeEvidence, encodeEvidence } from "../src/evidence.ts";
import { measurementId } from "../src/measurements.ts";
import { DEFAULT_POLICY, type Policy, parsePolicy } from "../src/policy.ts";
import { gpuNonce } from "../src/report-data.ts";
import { collateral, NOW, QUOTE_MRTD, QUOTE_REPORT_DATA, quote, rootCa } from "./fixtures.ts";
import { gpuClaims, nrasResult, type TestSigner, testSigner } from "./nvidia-helpers.ts";

const NONCE = "11".repeat(32);
const NO_GPU: Policy = { ...DEFAULT_POLICY, requireGpu: false };
let signer: TestSigner;

beforeAll(async () => {
  signer = await testSigner();
});

function trust(overrides: Partial<TrustInputs> = {}): TrustInputs {
  return {
    rootCa: rootCa(),
    collateral: async () => collateral(),
    nvidiaJwks: signer.jwks,
    now: NOW,
    ...overrides,
  };
}

const TDX: EvidenceContext = { teeType: "tdx", reportData: QUOTE_REPORT_DATA, nonce: NONCE };

describe("evidence bundle", () => {
  test("round-trips its sections", () => {
    const bytes = encodeEvidence({ tdxQuote: quote(), gpuEvidence: "[]" });
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("GMEV");
    const bundle = decodeEvidence(bytes);
    expect(bundle.tdxQuote).toEqual(quote());
    expect(bundle.gpuEvidence).toBe("[]");
    expect(bundle.devReport).toBeNull();
  });

  test("a bare quote is a bundle with only the quote", () => {
    expect(decodeEvidence(quote()).tdxQuote).toEqual(quote());
  });

  test("bytes without the bundle header are a bare quote; unknown sections, truncation refused", () => {
    // The quote parser then says what they are not (see quote-format.test.ts).
    expect(decodeEvidence(new Uint8Array([1, 2, 3])).tdxQuote).toEqual(new Uint8Array([1, 2, 3]));
    const bad = encodeEvidence({ gpuEvidence: "x" });
    bad[5] = 9;
    expect(() => decodeEvidence(bad)).toThrow(/unknown section kind 9/);
    expect(() => decodeEvidence(encodeEvidence({ tdxQuote: quote() }).subarray(0, 100))).toThrow(
      /section 1 needs 5006 bytes/,
    );
  });
});

describe("checkEvidence", () => {
  test("approves the fixture quote with its REPORTDATA and puts its measurements in the verdict", async () => {
    const verdict = await checkEvidence(quote(), TDX, trust(), NO_GPU);
    expect(verdict.approve).toBe(true);
    expect(verdict.code).toBeNull();
    expect(verdict.tcbStatus).toBe("UpToDate");
    expect(verdict.measurements?.mrtd).toBe(QUOTE_MRTD);
    expect(verdict.measurements?.gpu_driver).toBe("");
    expect(verdict.checks).toContain(
      "REPORTDATA binds the machine's keyset (provider, registry, keys, models) and nonce",
    );
  });

  test("wrong REPORTDATA is rejected with both values", async () => {
    const wrong = `${"00".repeat(32)}${"00".repeat(32)}`;
    const verdict = await checkEvidence(quote(), { ...TDX, reportData: wrong }, trust(), NO_GPU);
    expect(verdict.approve).toBe(false);
    expect(verdict.code).toBe("report_data_mismatch");
    expect(verdict.reason).toBe(
      `report_data_mismatch: REPORTDATA ${QUOTE_REPORT_DATA} is not the ${wrong} the registry ` +
        "requires for this machine's keyset (provider, registry, keys, models) and nonce",
    );
    expect(verdict.measurements).toBeNull();
    expect(verdict.tcbStatus).toBe("UpToDate");
  });

  test("with NVIDIA evidence the GPU versions join the measurements", async () => {
    const bytes = encodeEvidence({
      tdxQuote: quote(),
      gpuEvidence: await nrasResult(signer, NONCE),
    });
    const verdict = await checkEvidence(bytes, TDX, trust(), DEFAULT_POLICY);
    expect(verdict.approve).toBe(true);
    expect(verdict.measurements).toMatchObject({
      mrtd: QUOTE_MRTD,
      gpu_driver: "580.159.04",
      gpu_vbios: "96.00.9F.00.04",
    });
    expect(verdict.gpu?.gpus).toHaveLength(1);
  });

  test("GPU evidence must carry the nonce of the machine's keyset and the challenge", async () => {
    const keyset = QUOTE_REPORT_DATA.slice(0, 64);
    const challenge = QUOTE_REPORT_DATA.slice(64);
    const context = { ...TDX, nonce: gpuNonce(keyset, challenge) };
    const bound = encodeEvidence({
      tdxQuote: quote(),
      gpuEvidence: await nrasResult(signer, gpuNonce(keyset, challenge)),
    });
    expect((await checkEvidence(bound, context, trust(), DEFAULT_POLICY)).approve).toBe(true);
    // Tokens made for the bare challenge nonce, or for another keyset, do not fit.
    for (const nonce of [challenge, gpuNonce("ab".repeat(32), challenge)]) {
      const bytes = encodeEvidence({
        tdxQuote: quote(),
        gpuEvidence: await nrasResult(signer, nonce),
      });
      const verdict = await checkEvidence(bytes, context, trust(), DEFAULT_POLICY);
      expect(verdict.code).toBe("gpu_claim_failed");
      expect(verdict.reason).toContain(`eat_nonce is "${nonce}", expected "${context.nonce}"`);
    }
  });

  test("a GPU in devtools mode rejects the whole evidence", async () => {
    const gpu = { ...gpuClaims(NONCE), dbgstat: "enabled" };
    const bytes = encodeEvidence({
      tdxQuote: quote(),
      gpuEvidence: await nrasResult(signer, NONCE, gpu),
    });
    const verdict = await checkEvidence(bytes, TDX, trust(), DEFAULT_POLICY);
    expect(verdict.approve).toBe(false);
    expect(verdict.code).toBe("gpu_debug_mode");
    expect(verdict.measurements).toBeNull();
  });

  test("GPU evidence with another nonce rejects the whole evidence", async () => {
    const gpuEvidence = await nrasResult(signer, "99".repeat(32));
    const bytes = encodeEvidence({ tdxQuote: quote(), gpuEvidence });
    const verdict = await checkEvidence(bytes, TDX, trust(), DEFAULT_POLICY);
    expect(verdict.approve).toBe(false);
    expect(verdict.code).toBe("gpu_claim_failed");
  });

  test("GPU evidence is required by the default policy", async () => {
    const verdict = await checkEvidence(quote(), TDX, trust(), DEFAULT_POLICY);
    expect(verdict.code).toBe("gpu_evidence_missing");
  });

  test("a TCB status outside the policy is refused", async () => {
    const policy = parsePolicy({ acceptedTcbStatuses: ["SWHardeningNeeded"], requireGpu: false });
    const verdict = await checkEvidence(quote(), TDX, trust(), policy);
    expect(verdict.code).toBe("tcb_status_refused");
    expect(verdict.reason).toMatch(
      /TCB status UpToDate is not accepted \(policy accepts SWHardeningNeeded\)/,
    );
  });

  test("the registry's allowed TCB statuses decide in place of the policy's", async () => {
    const governed = (allowed: string[]) => ({ ...TDX, allowedTcbStatuses: allowed });
    const refused = await checkEvidence(quote(), governed(["SWHardeningNeeded"]), trust(), NO_GPU);
    expect(refused.approve).toBe(false);
    expect(refused.code).toBe("tcb_status_refused");
    expect(refused.tcbStatus).toBe("UpToDate");
    expect(refused.reason).toBe(
      "tcb_status_refused: TCB status UpToDate is not accepted (the registry allows SWHardeningNeeded)",
    );
    // A policy that accepts nothing the quote has does not matter once the registry decides.
    const strictPolicy = { ...NO_GPU, acceptedTcbStatuses: ["OutOfDate" as const] };
    const approved = await checkEvidence(
      quote(),
      governed(["OutOfDate", "UpToDate"]),
      trust(),
      strictPolicy,
    );
    expect(approved.approve).toBe(true);
    expect(approved.checks).toContain(
      "TCB status UpToDate accepted (the registry allows OutOfDate, UpToDate)",
    );
  });

  test("collateral that cannot be fetched is an error to retry, not a verdict", async () => {
    const unreachable = trust({
      collateral: async () => {
        throw new Error("PCCS unreachable");
      },
    });
    await expect(checkEvidence(quote(), TDX, unreachable, NO_GPU)).rejects.toThrow(
      "PCCS unreachable",
    );
  });

  test("dev evidence: refused by default, approved with allowDev when bound", async () => {
    const measurements = {
      mrtd: "aa".repeat(48),
      rtmr0: "",
      rtmr1: "",
      rtmr2: "",
      rtmr3: "",
      gpu_driver: "dev",
      gpu_vbios: "dev",
    };
    const reportData = "22".repeat(64);
    const bytes = encodeEvidence({
      devReport: JSON.stringify({ report_data: reportData, ...measurements }),
      gpuEvidence: await nrasResult(signer, NONCE),
    });
    const context: EvidenceContext = { teeType: "none-dev", reportData, nonce: NONCE };
    const now = new Date();
    const refused = await checkEvidence(bytes, context, trust({ now }), DEFAULT_POLICY);
    expect(refused.code).toBe("dev_evidence_refused");
    const policy = { ...DEFAULT_POLICY, allowDev: true };
    const verdict = await checkEvidence(bytes, context, trust({ now }), policy);
    expect(verdict.approve).toBe(true);
    expect(verdict.tcbStatus).toBe("Dev");
    expect(verdict.measurements).toEqual({
      ...measurements,
      gpu_driver: "580.159.04",
      gpu_vbios: "96.00.9F.00.04",
    });
    expect(measurementId(verdict.measurements ?? measurements)).toMatch(/^[0-9a-f]{64}$/);
    const unbound = await checkEvidence(
      bytes,
      { ...context, reportData: "33".repeat(64) },
      trust({ now }),
      policy,
    );
    expect(unbound.code).toBe("report_data_mismatch");
  });

  test("policy files are validated", () => {
    expect(() => parsePolicy({ acceptedTcbStatuses: ["Fine"] })).toThrow(/acceptedTcbStatuses/);
    expect(() => parsePolicy({ allowDebug: true })).toThrow("policy: unknown field allowDebug");
    expect(parsePolicy({})).toEqual(DEFAULT_POLICY);
  });
});
