import { describe, expect, test } from "vitest";
import { VerificationError } from "../src/errors.ts";
import { parsePemChain } from "../src/tdx/certs.ts";
import { type PckTcb, readPckTcb } from "../src/tdx/pck-extension.ts";
import { parseTdxQuote, type TdxQuote } from "../src/tdx/quote.ts";
import {
  parseQeIdentity,
  parseTdxTcbInfo,
  type TcbLevelStatus,
  type TdxTcbInfo,
} from "../src/tdx/tcb-info.ts";
import {
  convergeStatus,
  gradeTcb,
  matchModuleLevel,
  matchPlatformLevels,
  matchQeLevel,
} from "../src/tdx/tcb-status.ts";
import type { TdReport } from "../src/tdx/td-report.ts";
import type { X509Certificate } from "../src/tdx/x509.ts";
import { collateral, quote, v5Collateral, v5Quote } from "./fixtures.ts";

function pckOf(q: TdxQuote): PckTcb {
  return readPckTcb(parsePemChain(q.pckChainPem, "chain")[0] as X509Certificate);
}

function svn(bytes: number[]): Uint8Array {
  const out = new Uint8Array(16);
  out.set(bytes);
  return out;
}

const q = parseTdxQuote(quote());
const info = parseTdxTcbInfo(collateral().tcbInfo);
const pck = pckOf(q);

describe("TCB level matching on the v4 fixture's TCB info", () => {
  test("the fixture platform matches the UpToDate level", () => {
    expect(pck).toMatchObject({ fmspc: "b0c06f000000", pceSvn: 11 });
    const levels = matchPlatformLevels(info, pck, q.report.teeTcbSvn);
    expect(levels.tdx.status).toBe("UpToDate");
    expect(levels.sgx).toBe(levels.tdx);
  });

  test("a lower PCESVN falls to the OutOfDate level with its advisories", () => {
    const { tdx } = matchPlatformLevels(info, { ...pck, pceSvn: 5 }, q.report.teeTcbSvn);
    expect(tdx.status).toBe("OutOfDate");
    expect(tdx.advisoryIds).toContain("INTEL-SA-00837");
  });

  test("an SGX component below every level: the platform's TCB is not supported", () => {
    const sgxComponents = [...pck.sgxComponents];
    sgxComponents[0] = 1;
    expect(() => matchPlatformLevels(info, { ...pck, sgxComponents }, q.report.teeTcbSvn)).toThrow(
      "no TCB level of FMSPC b0c06f000000 covers the platform's SGX TCB (SGX components " +
        "1,3,2,2,4,1,0,5,0,0,0,0,0,0,0,0, PCESVN 11): the platform's TCB is not supported",
    );
  });

  test("a lower TDX late microcode SVN (TEE_TCB_SVN byte 2) matches no level", () => {
    const low = q.report.teeTcbSvn.slice();
    low[2] = 1;
    expect(() => matchPlatformLevels(info, pck, low)).toThrow(VerificationError);
    expect(() => matchPlatformLevels(info, pck, low)).toThrow(/covers the platform's TDX TCB/);
  });

  test("with a module version set, bytes 0-1 are left to the module identity", () => {
    // Module SVN 0 is below every level's first TDX component (5) but does not count here.
    expect(matchPlatformLevels(info, pck, svn([0, 1, 3])).tdx.status).toBe("UpToDate");
    // Without a module version, byte 0 counts: 0 < 5 at every level.
    expect(() => matchPlatformLevels(info, pck, svn([0, 0, 3]))).toThrow(/TDX TCB/);
  });

  test("the TDX module identity TDX_01 grades the module SVN", () => {
    expect(matchModuleLevel(info, q.report)?.status).toBe("UpToDate");
    const teeTcbSvn = q.report.teeTcbSvn.slice();
    teeTcbSvn[0] = 3; // module SVN 3: below 4, at least 2
    expect(matchModuleLevel(info, { ...q.report, teeTcbSvn })?.status).toBe("OutOfDate");
    teeTcbSvn[1] = 7; // module version 7: no identity TDX_07
    expect(() => matchModuleLevel(info, { ...q.report, teeTcbSvn })).toThrow(
      "the TCB info has no identity TDX_07 for TDX module version 7",
    );
  });

  test("module identity ids carry the version in hex, as Intel names them", () => {
    const report = { ...q.report, teeTcbSvn: svn([6, 0x10, 3]) };
    expect(() => matchModuleLevel(info, report)).toThrow(
      "the TCB info has no identity TDX_10 for TDX module version 16",
    );
    const hexInfo: TdxTcbInfo = {
      ...info,
      tdxModuleIdentities: info.tdxModuleIdentities.map((m) =>
        m.id === "TDX_01" ? { ...m, id: "tdx_10" } : m,
      ),
    };
    expect(matchModuleLevel(hexInfo, report)?.status).toBe("UpToDate");
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
    expect(convergeStatus("ConfigurationAndSWHardeningNeeded", "OutOfDate")).toBe(
      "OutOfDateConfigurationNeeded",
    );
    expect(convergeStatus("ConfigurationNeeded", "UpToDate")).toBe("ConfigurationNeeded");
    expect(convergeStatus("TDRelaunchAdvised", "UpToDate")).toBe("TDRelaunchAdvised");
    expect(convergeStatus("UpToDate", "Revoked")).toBe("Revoked");
  });
});

// The v5 fixtures' TCB info (FMSPC 90c06f000000, evaluation 18): levels UpToDate (SGX 3,3,2,2,4,
// 1,0,5, TDX byte 2 >= 3), OutOfDate (SGX 2,2,2,2,3,1,0,5, TDX byte 2 >= 2, INTEL-SA-01036 ...);
// TDX_01 module levels: SVN 6 UpToDate, 4 and 2 OutOfDate (INTEL-SA-01036, INTEL-SA-01099).
describe("TCB grading of TD report 1.5 quotes (v5 fixtures' TCB info and QE identity)", () => {
  const v5 = parseTdxQuote(v5Quote("upToDate"));
  const v5Info = parseTdxTcbInfo(v5Collateral().tcbInfo);
  const v5Qe = parseQeIdentity(v5Collateral().qeIdentity);
  const v5Pck = pckOf(v5);

  function grade(
    report: Partial<TdReport>,
    options: { info?: TdxTcbInfo; pck?: PckTcb; qeIsvSvn?: number } = {},
  ) {
    return gradeTcb(
      options.info ?? v5Info,
      v5Qe,
      options.pck ?? v5Pck,
      { ...v5.report, ...report },
      { ...v5.qeReport, isvSvn: options.qeIsvSvn ?? v5.qeReport.isvSvn },
    );
  }

  /** The v5 TCB info with the first level's status (and advisories) replaced. */
  function withTopLevel(status: TcbLevelStatus, advisoryIds: string[]): TdxTcbInfo {
    const [top, ...rest] = v5Info.tcbLevels;
    if (top === undefined) throw new Error("no TCB levels");
    return { ...v5Info, tcbLevels: [{ ...top, status, advisoryIds }, ...rest] };
  }

  test("the real quote grades UpToDate with no advisories", () => {
    expect(v5.report.teeTcbSvn2).not.toBeNull();
    const g = grade({});
    expect(g).toMatchObject({ status: "UpToDate", advisoryIds: [] });
    expect(g.module?.status).toBe("UpToDate");
  });

  test("the SGX level and the TDX level can differ: the TDX level grades", () => {
    const g = grade({ teeTcbSvn: svn([11, 1, 2]) });
    expect(g.sgx.status).toBe("UpToDate");
    expect(g.platform.status).toBe("OutOfDate");
    expect(g.status).toBe("OutOfDate");
    expect(g.advisoryIds).toEqual([
      "INTEL-SA-01036",
      "INTEL-SA-01079",
      "INTEL-SA-01099",
      "INTEL-SA-01103",
      "INTEL-SA-01111",
    ]);
  });

  test.each([
    ["SWHardeningNeeded", "SWHardeningNeeded", "OutOfDate"],
    ["ConfigurationNeeded", "ConfigurationNeeded", "OutOfDateConfigurationNeeded"],
    [
      "ConfigurationAndSWHardeningNeeded",
      "ConfigurationAndSWHardeningNeeded",
      "OutOfDateConfigurationNeeded",
    ],
    [
      "OutOfDateConfigurationNeeded",
      "OutOfDateConfigurationNeeded",
      "OutOfDateConfigurationNeeded",
    ],
    ["Revoked", "Revoked", "Revoked"],
  ] as const)(
    "a %s level: %s, and %s under an out-of-date TDX module",
    (level, alone, withOldModule) => {
      const levelInfo = withTopLevel(level, ["INTEL-SA-00001"]);
      const g = grade({}, { info: levelInfo });
      expect(g.status).toBe(alone);
      expect(g.advisoryIds).toEqual(["INTEL-SA-00001"]);
      // Module SVN 5 (TDX_01: OutOfDate, INTEL-SA-01036 and 01099); TEE_TCB_SVN2 not newer.
      const old = svn([5, 1, 4]);
      const moduleBehind = grade({ teeTcbSvn: old, teeTcbSvn2: old }, { info: levelInfo });
      expect(moduleBehind.status).toBe(withOldModule);
      expect(moduleBehind.advisoryIds).toEqual([
        "INTEL-SA-00001",
        "INTEL-SA-01036",
        "INTEL-SA-01099",
      ]);
    },
  );

  test("an out-of-date QE pulls the status down", () => {
    const outOfDateQe = { ...v5Qe, tcbLevels: [{ ...v5Qe.tcbLevels[0], status: "OutOfDate" }] };
    const g = gradeTcb(v5Info, outOfDateQe as typeof v5Qe, v5Pck, v5.report, v5.qeReport);
    expect(g.status).toBe("OutOfDate");
    const configInfo = withTopLevel("ConfigurationNeeded", []);
    expect(
      gradeTcb(configInfo, outOfDateQe as typeof v5Qe, v5Pck, v5.report, v5.qeReport).status,
    ).toBe("OutOfDateConfigurationNeeded");
  });

  describe("TD relaunch (TEE_TCB_SVN2 shows the module updated under the running TD)", () => {
    const launched = svn([5, 1, 4]); // module SVN 5: TDX_01 OutOfDate
    const updated = svn([6, 1, 4]); // module SVN 6: the latest TDX_01 level

    test("relaunching is advised when only the module is behind and it has been updated", () => {
      expect(grade({ teeTcbSvn: launched, teeTcbSvn2: updated }).status).toBe("TDRelaunchAdvised");
    });

    test("with a configuration-needed SGX level: TDRelaunchAdvisedConfigurationNeeded", () => {
      const g = grade(
        { teeTcbSvn: launched, teeTcbSvn2: updated },
        { info: withTopLevel("ConfigurationNeeded", []) },
      );
      expect(g.status).toBe("TDRelaunchAdvisedConfigurationNeeded");
    });

    test("not advised when the update is not the latest level", () => {
      expect(grade({ teeTcbSvn: launched, teeTcbSvn2: svn([5, 1, 4]) }).status).toBe("OutOfDate");
      // TDX late microcode (byte 2) below the latest level's 3.
      expect(grade({ teeTcbSvn: launched, teeTcbSvn2: svn([6, 1, 2]) }).status).toBe("OutOfDate");
    });

    test("not advised when the platform's SGX part is out of date too", () => {
      const oldPlatform = {
        ...v5Pck,
        sgxComponents: [2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
      };
      const g = grade({ teeTcbSvn: launched, teeTcbSvn2: updated }, { pck: oldPlatform });
      expect(g.sgx.status).toBe("OutOfDate");
      expect(g.status).toBe("OutOfDate");
    });

    test("a module version 0 in TEE_TCB_SVN2 is compared with the latest TCB level", () => {
      // Byte 0 against the latest level's first TDX component (5).
      expect(grade({ teeTcbSvn: launched, teeTcbSvn2: svn([5, 0, 3]) }).status).toBe(
        "TDRelaunchAdvised",
      );
      expect(grade({ teeTcbSvn: launched, teeTcbSvn2: svn([4, 0, 3]) }).status).toBe("OutOfDate");
    });

    test("TEE_TCB_SVN2 naming a module version without identity is a mismatch", () => {
      expect(() => grade({ teeTcbSvn: launched, teeTcbSvn2: svn([6, 2, 4]) })).toThrow(
        "TEE_TCB_SVN2 06020400000000000000000000000000: the TCB info has no identity TDX_02 " +
          "for TDX module version 2",
      );
    });
  });
});
