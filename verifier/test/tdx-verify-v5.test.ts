import { describe, expect, test } from "vitest";
import { checkEvidence, type EvidenceContext, type TrustInputs } from "../src/check.ts";
import { VerificationError } from "../src/errors.ts";
import { DEFAULT_POLICY, type Policy } from "../src/policy.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
import { verifyTdxQuote } from "../src/tdx/verify.ts";
import { collateral, NOW, quote, rootCa, V5_NOW, v5Collateral, v5Quote } from "./fixtures.ts";

async function failure(bytes: Uint8Array, now = V5_NOW): Promise<VerificationError> {
  try {
    await verifyTdxQuote(bytes, v5Collateral(), { rootCa: rootCa(), now });
  } catch (error) {
    if (error instanceof VerificationError) {
      return error;
    }
    throw error;
  }
  throw new Error("verification unexpectedly passed");
}

function flipBit(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = (copy[offset] ?? 0) ^ 0x01;
  return copy;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
// Version 5 offsets: header 48, body descriptor 6, TD report 1.5 648 (TEE_TCB_SVN2 at 584 of it,
// MRSERVICETD at 600).
const BODY = 48 + 6;
const TEE_TCB_SVN2 = BODY + 584;
const MR_SERVICE_TD = BODY + 600;
const ALIBABA_MR_SERVICE_TD =
  "383c87d3bbb047b2d171eaca95312ede99f258088dc788f6ae2ccf8b6dd848fe8d47629e08b3f6cbd4a00dd47a5a033d";

describe("TDX quote version 5 (TD report 1.5), real quotes of FMSPC 90c06f000000", () => {
  test("Google's sample verifies UpToDate, TEE_TCB_SVN2 and MRSERVICETD read", async () => {
    const result = await verifyTdxQuote(v5Quote("upToDate"), v5Collateral(), {
      rootCa: rootCa(),
      now: V5_NOW,
    });
    expect(result.quote).toEqual({ version: 5, bodyType: 3 });
    expect(result.status).toBe("UpToDate");
    expect(result.advisoryIds).toEqual([]);
    expect(result.td.tee_tcb_svn).toBe("0b010400000000000000000000000000");
    expect(result.td.tee_tcb_svn2).toBe("0d010400000000000000000000000000");
    expect(result.td.mr_service_td).toBe("00".repeat(48));
    expect(result.serviceTd).toBe(false);
    expect(result.debug).toBe(false);
    expect(result.platform).toMatchObject({
      fmspc: "90c06f000000",
      pceSvn: 13,
      sgxComponents: [4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
      sgxStatus: "UpToDate",
      platformStatus: "UpToDate",
      tdxModuleStatus: "UpToDate",
      qeStatus: "UpToDate",
      tcbEvaluationDataNumber: 18,
    });
    expect(result.checks[0]).toBe("quote parsed: version 5, TD report 1.5, ECDSA P-256, TDX");
    expect(result.checks).toContain("quote signature over header and TD report verified");
  });

  test("Alibaba Cloud's verifies OutOfDate with the advisories of its platform and module levels", async () => {
    const result = await verifyTdxQuote(v5Quote("outOfDate"), v5Collateral(), {
      rootCa: rootCa(),
      now: V5_NOW,
    });
    expect(result.status).toBe("OutOfDate");
    expect(result.advisoryIds).toEqual([
      "INTEL-SA-01036",
      "INTEL-SA-01079",
      "INTEL-SA-01099",
      "INTEL-SA-01103",
      "INTEL-SA-01111",
    ]);
    expect(result.platform).toMatchObject({
      sgxComponents: [2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
      tcbDate: "2024-03-13T00:00:00Z",
      sgxStatus: "OutOfDate",
      platformStatus: "OutOfDate",
      tdxModuleStatus: "OutOfDate",
      qeStatus: "UpToDate",
    });
    expect(result.td.tee_tcb_svn).toBe("05010200000000000000000000000000");
    expect(result.td.mr_service_td).toBe(ALIBABA_MR_SERVICE_TD);
    expect(result.serviceTd).toBe(true);
  });

  test("a platform below every TCB level is not supported", async () => {
    const error = await failure(v5Quote("noTcbLevel"));
    expect(error.code).toBe("tcb_level_not_found");
    expect(error.message).toBe(
      "no TCB level of FMSPC 90c06f000000 covers the platform's SGX TCB (SGX components " +
        "3,3,2,2,4,1,0,3,0,0,0,0,0,0,0,0, PCESVN 13): the platform's TCB is not supported",
    );
  });

  test("the quote signature covers TEE_TCB_SVN2 and MRSERVICETD", async () => {
    for (const offset of [TEE_TCB_SVN2, TEE_TCB_SVN2 + 15, MR_SERVICE_TD, MR_SERVICE_TD + 47]) {
      const error = await failure(flipBit(v5Quote("upToDate"), offset));
      expect(error.code).toBe("quote_signature_invalid");
    }
  });

  test("after the collateral's first nextUpdate (the PCK CRL's) it is expired", async () => {
    const error = await failure(v5Quote("upToDate"), new Date("2026-03-20T10:41:16Z"));
    expect(error.code).toBe("crl_expired");
    expect(error.message).toBe(
      "PCK CRL: expired at 2026-03-20T10:41:15.000Z, before 2026-03-20T10:41:16.000Z",
    );
  });

  test("parses the same fields as version 4 plus the TD report 1.5 ones", () => {
    const q = parseTdxQuote(v5Quote("outOfDate"));
    expect(q.header.version).toBe(5);
    expect(q.bodyType).toBe(3);
    expect(q.signedBytes.length).toBe(48 + 6 + 648);
    expect(hex(q.report.teeTcbSvn2 ?? new Uint8Array())).toBe("05010200000000000000000000000000");
    expect(hex(q.report.mrServiceTd ?? new Uint8Array())).toBe(ALIBABA_MR_SERVICE_TD);
  });
});

describe("TDX quote version 5 with a TD report 1.0 (body type 2)", () => {
  /** The v4 fixture re-encoded as version 5 body type 2: header version 5, then the descriptor. */
  function asVersion5(v4: Uint8Array): Uint8Array {
    const out = new Uint8Array(v4.length + 6);
    out.set(v4.subarray(0, 48));
    out[0] = 5;
    const view = new DataView(out.buffer);
    view.setUint16(48, 2, true);
    view.setUint32(50, 584, true);
    out.set(v4.subarray(48), 54);
    return out;
  }

  test("parses to the same TD report as the version 4 quote, without the 1.5 fields", () => {
    const v4 = parseTdxQuote(quote());
    const v5 = parseTdxQuote(asVersion5(quote()));
    expect(v5.header.version).toBe(5);
    expect(v5.bodyType).toBe(2);
    expect(v5.report).toEqual(v4.report);
    expect(v5.report.teeTcbSvn2).toBeNull();
    expect(v5.report.mrServiceTd).toBeNull();
    expect(v5.signedBytes.length).toBe(48 + 6 + 584);
    expect(v5.qeReport).toEqual(v4.qeReport);
    expect(v5.pckChainPem).toBe(v4.pckChainPem);
  });

  test("every check up to the quote signature passes; the signature, over the new bytes, fails", async () => {
    try {
      await verifyTdxQuote(asVersion5(quote()), collateral(), { rootCa: rootCa(), now: NOW });
      throw new Error("verification unexpectedly passed");
    } catch (error) {
      expect((error as VerificationError).code).toBe("quote_signature_invalid");
    }
  });
});

describe("policy on version 5 evidence", () => {
  const context: EvidenceContext = { teeType: "tdx", reportData: null, nonce: null };
  const trust: TrustInputs = {
    rootCa: rootCa(),
    collateral: async () => v5Collateral(),
    nvidiaJwks: null,
    now: V5_NOW,
  };
  const noGpu: Policy = { ...DEFAULT_POLICY, requireGpu: false };

  test("a bound service TD is refused unless allowed, then the TCB status is judged", async () => {
    const bytes = v5Quote("outOfDate");
    const refused = await checkEvidence(bytes, context, trust, noGpu);
    expect(refused.approve).toBe(false);
    expect(refused.code).toBe("service_td_bound");
    expect(refused.reason).toBe(
      `service_td_bound: a service TD is bound to the TD (MRSERVICETD ${ALIBABA_MR_SERVICE_TD}), ` +
        "which the policy refuses",
    );
    const serviceTdAllowed = { ...noGpu, allowServiceTd: true };
    const outOfDate = await checkEvidence(bytes, context, trust, serviceTdAllowed);
    expect(outOfDate.reason).toBe(
      "tcb_status_refused: TCB status OutOfDate (INTEL-SA-01036, INTEL-SA-01079, INTEL-SA-01099, " +
        "INTEL-SA-01103, INTEL-SA-01111) is not accepted (policy accepts UpToDate)",
    );
    const accepted = await checkEvidence(bytes, context, trust, {
      ...serviceTdAllowed,
      acceptedTcbStatuses: ["UpToDate", "OutOfDate"],
    });
    expect(accepted.approve).toBe(true);
    expect(accepted.tcbStatus).toBe("OutOfDate");
    expect(accepted.measurements?.mrtd).toBe(accepted.tdx?.td.mrtd);
  });

  test("the up-to-date quote is approved by the default policy (GPU aside)", async () => {
    const verdict = await checkEvidence(v5Quote("upToDate"), context, trust, noGpu);
    expect(verdict.approve).toBe(true);
    expect(verdict.tcbStatus).toBe("UpToDate");
  });
});
