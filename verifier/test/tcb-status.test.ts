import { describe, expect, test } from "vitest";
import { VerificationError } from "../src/errors.ts";
import { parsePemChain } from "../src/tdx/certs.ts";
import { type PckTcb, readPckTcb } from "../src/tdx/pck-extension.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
import { parseQeIdentity, parseTdxTcbInfo } from "../src/tdx/tcb-info.ts";
import {
  convergeStatus,
  matchModuleLevel,
  matchPlatformLevel,
  matchQeLevel,
} from "../src/tdx/tcb-status.ts";
import type { X509Certificate } from "../src/tdx/x509.ts";
import { collateral, quote } from "./fixtures.ts";

const q = parseTdxQuote(quote());
const info = parseTdxTcbInfo(collateral().tcbInfo);
const pck: PckTcb = readPckTcb(parsePemChain(q.pckChainPem, "chain")[0] as X509Certificate);

describe("TCB level matching on the fixture's TCB info", () => {
  test("the fixture platform matches the UpToDate level", () => {
    expect(pck).toMatchObject({ fmspc: "b0c06f000000", pceSvn: 11 });
    expect(matchPlatformLevel(info, pck, q.report.teeTcbSvn).status).toBe("UpToDate");
  });

  test("a lower PCESVN falls to the OutOfDate level with its advisories", () => {
    const level = matchPlatformLevel(info, { ...pck, pceSvn: 5 }, q.report.teeTcbSvn);
    expect(level.status).toBe("OutOfDate");
    expect(level.advisoryIds).toContain("INTEL-SA-00837");
  });

  test("an SGX component below every level matches none", () => {
    const sgxComponents = [...pck.sgxComponents];
    sgxComponents[0] = 1;
    expect(() => matchPlatformLevel(info, { ...pck, sgxComponents }, q.report.teeTcbSvn)).toThrow(
      /no TCB level of FMSPC b0c06f000000 matches the platform/,
    );
  });

  test("a lower TDX late microcode SVN (TEE_TCB_SVN byte 2) matches no level", () => {
    const svn = q.report.teeTcbSvn.slice();
    svn[2] = 1;
    expect(() => matchPlatformLevel(info, pck, svn)).toThrow(VerificationError);
  });

  test("the TDX module identity TDX_01 grades the module SVN", () => {
    expect(matchModuleLevel(info, q.report)?.status).toBe("UpToDate");
    const svn = q.report.teeTcbSvn.slice();
    svn[0] = 3; // module SVN 3: below 4, at least 2
    expect(matchModuleLevel(info, { ...q.report, teeTcbSvn: svn })?.status).toBe("OutOfDate");
    svn[1] = 7; // module version 7: no identity TDX_07
    expect(() => matchModuleLevel(info, { ...q.report, teeTcbSvn: svn })).toThrow(
      "the TCB info has no identity TDX_07 for TDX module version 7",
    );
  });

  test("the QE identity checks MRSIGNER and grades ISVSVN", () => {
    const identity = parseQeIdentity(collateral().qeIdentity);
    expect(matchQeLevel(identity, q.qeReport).status).toBe("UpToDate");
    expect(() => matchQeLevel(identity, { ...q.qeReport, isvSvn: 3 })).toThrow(
      "no QE identity TCB level covers QE ISVSVN 3",
    );
    const mrSigner = q.qeReport.mrSigner.slice();
    mrSigner[0] = 0;
    expect(() => matchQeLevel(identity, { ...q.qeReport, mrSigner })).toThrow(/QE MRSIGNER/);
  });

  test("statuses converge as Intel's QVL does", () => {
    expect(convergeStatus("UpToDate", "UpToDate")).toBe("UpToDate");
    expect(convergeStatus("UpToDate", "OutOfDate")).toBe("OutOfDate");
    expect(convergeStatus("SWHardeningNeeded", "OutOfDate")).toBe("OutOfDate");
    expect(convergeStatus("ConfigurationNeeded", "OutOfDate")).toBe("OutOfDateConfigurationNeeded");
    expect(convergeStatus("ConfigurationNeeded", "UpToDate")).toBe("ConfigurationNeeded");
    expect(convergeStatus("UpToDate", "Revoked")).toBe("Revoked");
  });
});
