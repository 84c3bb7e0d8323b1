/**
 * TCB level matching as Intel's Quote Verification Library does it for TDX: the platform level
 * is the first (highest) TCB level whose SGX components and PCESVN (from the PCK certificate)
 * and TDX components (TEE_TCB_SVN) are all at least the level's; the TDX module's own level
 * comes from its identity (TDX_<version>); the QE's from the QE identity by ISVSVN. Lower
 * module or QE levels pull the platform status down ("converge"); a TD report 1.5 whose module
 * was updated under the running TD may be advised a relaunch instead.
 */
import { toHex } from "../bytes.ts";
import { fail } from "../errors.ts";
import type { PckTcb } from "./pck-extension.ts";
import type {
  IsvTcbLevel,
  QeIdentity,
  TcbLevelStatus,
  TcbStatus,
  TdxTcbInfo,
  TdxTcbLevel,
} from "./tcb-info.ts";
import type { EnclaveReport, TdReport } from "./td-report.ts";

function maskedEqual(value: string, expected: string, mask: string): boolean {
  const v = Buffer.from(value, "hex");
  const e = Buffer.from(expected, "hex");
  const m = Buffer.from(mask, "hex");
  if (v.length !== m.length || e.length !== m.length) {
    return false;
  }
  for (let i = 0; i < m.length; i++) {
    if (((v[i] ?? 0) & (m[i] ?? 0)) !== ((e[i] ?? 0) & (m[i] ?? 0))) {
      return false;
    }
  }
  return true;
}

/** The levels the platform matches: SGX part alone, and SGX with TDX (the one that grades it). */
export interface PlatformLevels {
  /** The first level whose SGX components and PCESVN the PCK certificate meets. */
  sgx: TdxTcbLevel;
  /** The first level whose SGX and TDX components (TEE_TCB_SVN) the platform both meets. */
  tdx: TdxTcbLevel;
}

function meetsSgx(level: TdxTcbLevel, pck: PckTcb): boolean {
  return (
    pck.pceSvn >= level.pceSvn &&
    level.sgxComponents.every((svn, i) => (pck.sgxComponents[i] ?? 0) >= svn)
  );
}

/** The platform's TCB levels: SGX part from the PCK certificate, TDX part from TEE_TCB_SVN. */
export function matchPlatformLevels(
  info: TdxTcbInfo,
  pck: PckTcb,
  teeTcbSvn: Uint8Array,
): PlatformLevels {
  const sgx = info.tcbLevels.find((level) => meetsSgx(level, pck));
  if (sgx === undefined) {
    fail(
      "tcb_level_not_found",
      `no TCB level of FMSPC ${info.fmspc} covers the platform's SGX TCB (SGX components ` +
        `${pck.sgxComponents.join(",")}, PCESVN ${pck.pceSvn}): the platform's TCB is not supported`,
    );
  }
  // With a TDX module version (byte 1) set, bytes 0-1 are graded by the module identity instead.
  const skipModule = (teeTcbSvn[1] ?? 0) > 0;
  const tdx = info.tcbLevels.find(
    (level) =>
      meetsSgx(level, pck) &&
      level.tdxComponents.every((svn, i) => (skipModule && i < 2) || (teeTcbSvn[i] ?? 0) >= svn),
  );
  if (tdx === undefined) {
    fail(
      "tcb_level_not_found",
      `no TCB level of FMSPC ${info.fmspc} covers the platform's TDX TCB (TEE_TCB_SVN ` +
        `${toHex(teeTcbSvn)} with SGX components ${pck.sgxComponents.join(",")}, PCESVN ${pck.pceSvn})`,
    );
  }
  return { sgx, tdx };
}

/** Intel's id of a TDX module version's identity: "TDX_" and the version as two hex digits. */
function moduleIdentityId(version: number): string {
  return `TDX_${version.toString(16).toUpperCase().padStart(2, "0")}`;
}

function isvLevel(levels: IsvTcbLevel[], isvSvn: number): IsvTcbLevel | null {
  return levels.find((level) => isvSvn >= level.isvSvn) ?? null;
}

/** The TDX module's identity check and, for module versions > 0, its TCB level. */
export function matchModuleLevel(info: TdxTcbInfo, report: TdReport): IsvTcbLevel | null {
  const isvSvn = report.teeTcbSvn[0] ?? 0;
  const version = report.teeTcbSvn[1] ?? 0;
  const mrSignerSeam = toHex(report.mrSignerSeam);
  const seamAttributes = toHex(report.seamAttributes);
  if (version === 0 || info.tdxModuleIdentities.length === 0) {
    if (mrSignerSeam !== info.tdxModule.mrSigner) {
      fail("tdx_module_mismatch", `MRSIGNERSEAM ${mrSignerSeam} is not ${info.tdxModule.mrSigner}`);
    }
    if (!maskedEqual(seamAttributes, info.tdxModule.attributes, info.tdxModule.attributesMask)) {
      fail("tdx_module_mismatch", `SEAM attributes ${seamAttributes} do not match the TCB info`);
    }
    return null;
  }
  const id = moduleIdentityId(version);
  const identity = info.tdxModuleIdentities.find((m) => m.id.toUpperCase() === id);
  if (identity === undefined) {
    fail(
      "tdx_module_mismatch",
      `the TCB info has no identity ${id} for TDX module version ${version}`,
    );
  }
  if (mrSignerSeam !== identity.mrSigner) {
    fail("tdx_module_mismatch", `MRSIGNERSEAM ${mrSignerSeam} is not ${identity.mrSigner} (${id})`);
  }
  if (!maskedEqual(seamAttributes, identity.attributes, identity.attributesMask)) {
    fail("tdx_module_mismatch", `SEAM attributes ${seamAttributes} do not match ${id}`);
  }
  const level = isvLevel(identity.tcbLevels, isvSvn);
  if (level === null) {
    fail("tcb_level_not_found", `no TCB level of ${id} covers TDX module SVN ${isvSvn}`);
  }
  return level;
}

/** The QE identity check (MRSIGNER, ISVPRODID, MISCSELECT, attributes) and the QE's TCB level. */
export function matchQeLevel(identity: QeIdentity, qe: EnclaveReport): IsvTcbLevel {
  const mrSigner = toHex(qe.mrSigner);
  if (mrSigner !== identity.mrSigner) {
    fail("qe_identity_mismatch", `QE MRSIGNER ${mrSigner} is not ${identity.mrSigner}`);
  }
  if (qe.isvProdId !== identity.isvProdId) {
    fail("qe_identity_mismatch", `QE ISVPRODID ${qe.isvProdId} is not ${identity.isvProdId}`);
  }
  const misc = toHex(qe.miscSelect);
  if (!maskedEqual(misc, identity.miscselect, identity.miscselectMask)) {
    fail("qe_identity_mismatch", `QE MISCSELECT ${misc} does not match ${identity.miscselect}`);
  }
  const attributes = toHex(qe.attributes);
  if (!maskedEqual(attributes, identity.attributes, identity.attributesMask)) {
    fail("qe_identity_mismatch", `QE attributes ${attributes} do not match ${identity.attributes}`);
  }
  const level = isvLevel(identity.tcbLevels, qe.isvSvn);
  if (level === null) {
    fail("tcb_level_not_found", `no QE identity TCB level covers QE ISVSVN ${qe.isvSvn}`);
  }
  return level;
}

/** A lower TDX module or QE level pulls the platform status down, as Intel's QVL converges them. */
export function convergeStatus(platform: TcbStatus, other: TcbLevelStatus): TcbStatus {
  if (other === "Revoked") {
    return "Revoked";
  }
  if (other !== "OutOfDate") {
    return platform;
  }
  if (platform === "UpToDate" || platform === "SWHardeningNeeded") {
    return "OutOfDate";
  }
  if (platform === "ConfigurationNeeded" || platform === "ConfigurationAndSWHardeningNeeded") {
    return "OutOfDateConfigurationNeeded";
  }
  return platform;
}

const CONFIGURATION_NEEDED: readonly TcbStatus[] = [
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDateConfigurationNeeded",
];

export interface RelaunchInputs {
  /** TEE_TCB_SVN2 of a TD report 1.5: the TDX module the TD runs on now. */
  teeTcbSvn2: Uint8Array;
  /** The status of the platform's SGX level, of its TDX level after the module's, of the module's and the QE's. */
  sgxStatus: TcbLevelStatus;
  tdxStatus: TcbStatus;
  moduleStatus: TcbLevelStatus | null;
  qeStatus: TcbLevelStatus;
}

/**
 * The TD relaunch check of Intel's QVL for TD report 1.5 quotes: when only the TDX module the
 * TD was launched on is out of date (SGX level current or configuration-only, QE current) and
 * TEE_TCB_SVN2 shows the module was since updated to the latest TCB level, relaunching the TD
 * brings it up to date: "TDRelaunchAdvised" (or "TDRelaunchAdvisedConfigurationNeeded").
 * Otherwise the TDX status stands.
 */
export function relaunchStatus(info: TdxTcbInfo, input: RelaunchInputs): TcbStatus {
  const { teeTcbSvn2: svn2, sgxStatus, tdxStatus } = input;
  const candidate =
    input.qeStatus !== "OutOfDate" &&
    input.qeStatus !== "Revoked" &&
    [
      "UpToDate",
      "SWHardeningNeeded",
      "ConfigurationNeeded",
      "ConfigurationAndSWHardeningNeeded",
    ].includes(sgxStatus) &&
    (tdxStatus === "OutOfDate" || tdxStatus === "OutOfDateConfigurationNeeded") &&
    input.moduleStatus === "OutOfDate";
  const latest = info.tcbLevels[0];
  if (!candidate || latest === undefined) {
    return tdxStatus;
  }
  let moduleSvnRequired = latest.tdxComponents[0] ?? 0;
  const version2 = svn2[1] ?? 0;
  if (version2 > 0) {
    const id = moduleIdentityId(version2);
    const identity = info.tdxModuleIdentities.find((m) => m.id.toUpperCase() === id);
    if (identity === undefined) {
      fail(
        "tdx_module_mismatch",
        `TEE_TCB_SVN2 ${toHex(svn2)}: the TCB info has no identity ${id} for TDX module version ${version2}`,
      );
    }
    const latestModule = identity.tcbLevels[0];
    if (latestModule === undefined) {
      fail("tcb_level_not_found", `the TCB info's ${id} identity has no TCB levels`);
    }
    moduleSvnRequired = latestModule.isvSvn;
  }
  const updated =
    (svn2[0] ?? 0) >= moduleSvnRequired && (svn2[2] ?? 0) >= (latest.tdxComponents[2] ?? 0);
  if (!updated) {
    return tdxStatus;
  }
  return CONFIGURATION_NEEDED.includes(sgxStatus) || CONFIGURATION_NEEDED.includes(tdxStatus)
    ? "TDRelaunchAdvisedConfigurationNeeded"
    : "TDRelaunchAdvised";
}

/** The TCB status of a quote's platform, TDX module and QE, with the levels that gave it. */
export interface TcbGrade {
  status: TcbStatus;
  /** Advisories of the platform's, the module's and the QE's levels, each once. */
  advisoryIds: string[];
  sgx: TdxTcbLevel;
  platform: TdxTcbLevel;
  module: IsvTcbLevel | null;
  qe: IsvTcbLevel;
}

/**
 * Grades a verified quote's TCB as Intel's QVL does: the platform's TDX level, converged with
 * the TDX module's level, the TD relaunch check (TD report 1.5), then the QE's level.
 */
export function gradeTcb(
  info: TdxTcbInfo,
  qeIdentity: QeIdentity,
  pck: PckTcb,
  report: TdReport,
  qeReport: EnclaveReport,
): TcbGrade {
  const qe = matchQeLevel(qeIdentity, qeReport);
  const module = matchModuleLevel(info, report);
  const { sgx, tdx: platform } = matchPlatformLevels(info, pck, report.teeTcbSvn);
  let status: TcbStatus = platform.status;
  if (module !== null) {
    status = convergeStatus(status, module.status);
  }
  if (report.teeTcbSvn2 !== null) {
    status = relaunchStatus(info, {
      teeTcbSvn2: report.teeTcbSvn2,
      sgxStatus: sgx.status,
      tdxStatus: status,
      moduleStatus: module?.status ?? null,
      qeStatus: qe.status,
    });
  }
  status = convergeStatus(status, qe.status);
  const advisoryIds = [
    ...new Set([...platform.advisoryIds, ...(module?.advisoryIds ?? []), ...qe.advisoryIds]),
  ];
  return { status, advisoryIds, sgx, platform, module, qe };
}
