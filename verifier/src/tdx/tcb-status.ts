/**
 * TCB level matching as Intel's Quote Verification Library does it for TDX: the platform level
 * is the first (highest) TCB level whose SGX components and PCESVN (from the PCK certificate)
 * and TDX components (TEE_TCB_SVN) are all at least the level's; the TDX module's own level
 * comes from its identity (TDX_<version>); the QE's from the QE identity by ISVSVN. Lower
 * module or QE levels pull the platform status down ("converge").
 */
import { toHex } from "../bytes.ts";
import { fail } from "../errors.ts";
import type { PckTcb } from "./pck-extension.ts";
import type { EnclaveReport, TdReport } from "./quote.ts";
import type { IsvTcbLevel, QeIdentity, TcbStatus, TdxTcbInfo, TdxTcbLevel } from "./tcb-info.ts";

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

/** The platform's TCB level: SGX part from the PCK certificate, TDX part from TEE_TCB_SVN. */
export function matchPlatformLevel(
  info: TdxTcbInfo,
  pck: PckTcb,
  teeTcbSvn: Uint8Array,
): TdxTcbLevel {
  // With a TDX module version (byte 1) set, bytes 0-1 are judged by the module identity instead.
  const skipModule = (teeTcbSvn[1] ?? 0) > 0 && info.tdxModuleIdentities.length > 0;
  for (const level of info.tcbLevels) {
    const sgxOk =
      pck.pceSvn >= level.pceSvn &&
      level.sgxComponents.every((svn, i) => (pck.sgxComponents[i] ?? 0) >= svn);
    const tdxOk = level.tdxComponents.every(
      (svn, i) => (skipModule && i < 2) || (teeTcbSvn[i] ?? 0) >= svn,
    );
    if (sgxOk && tdxOk) {
      return level;
    }
  }
  return fail(
    "tcb_level_not_found",
    `no TCB level of FMSPC ${info.fmspc} matches the platform (SGX components ` +
      `${pck.sgxComponents.join(",")}, PCESVN ${pck.pceSvn}, TEE_TCB_SVN ${toHex(teeTcbSvn)})`,
  );
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
  const id = `TDX_${version.toString().padStart(2, "0")}`;
  const identity = info.tdxModuleIdentities.find((m) => m.id === id);
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
export function convergeStatus(platform: TcbStatus, other: TcbStatus): TcbStatus {
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
