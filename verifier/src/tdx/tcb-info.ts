/**
 * TDX TCB info (v3) and TD QE identity (v2): the JSON Intel signs, read strictly enough to match
 * TCB levels. Only the fields the checks use are typed; the signature covers the exact text.
 */
import { fail } from "../errors.ts";

/** The statuses a TCB level (of the TCB info, a TDX module identity, the QE identity) carries. */
export type TcbLevelStatus =
  | "UpToDate"
  | "SWHardeningNeeded"
  | "ConfigurationNeeded"
  | "ConfigurationAndSWHardeningNeeded"
  | "OutOfDate"
  | "OutOfDateConfigurationNeeded"
  | "Revoked";

/**
 * A quote's TCB status: its level's, or, for a TD report 1.5 whose TDX module was updated under
 * the running TD (TEE_TCB_SVN2), one of the relaunch statuses Intel's QVL derives.
 */
export type TcbStatus =
  | TcbLevelStatus
  | "TDRelaunchAdvised"
  | "TDRelaunchAdvisedConfigurationNeeded";

const STATUSES: readonly string[] = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
];

export interface TdxTcbLevel {
  sgxComponents: number[];
  pceSvn: number;
  tdxComponents: number[];
  tcbDate: string;
  status: TcbLevelStatus;
  advisoryIds: string[];
}

export interface IsvTcbLevel {
  isvSvn: number;
  tcbDate: string;
  status: TcbLevelStatus;
  advisoryIds: string[];
}

export interface TdxModuleIdentity {
  id: string;
  mrSigner: string;
  attributes: string;
  attributesMask: string;
  tcbLevels: IsvTcbLevel[];
}

export interface TdxTcbInfo {
  issueDate: Date;
  nextUpdate: Date;
  fmspc: string;
  pceId: string;
  tcbEvaluationDataNumber: number;
  tdxModule: { mrSigner: string; attributes: string; attributesMask: string };
  tdxModuleIdentities: TdxModuleIdentity[];
  tcbLevels: TdxTcbLevel[];
}

export interface QeIdentity {
  id: string;
  issueDate: Date;
  nextUpdate: Date;
  tcbEvaluationDataNumber: number;
  miscselect: string;
  miscselectMask: string;
  attributes: string;
  attributesMask: string;
  mrSigner: string;
  isvProdId: number;
  tcbLevels: IsvTcbLevel[];
}

type Json = Record<string, unknown>;

function obj(value: unknown, where: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("bad_collateral", `${where}: expected an object`);
  }
  return value as Json;
}

function arr(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) {
    fail("bad_collateral", `${where}: expected an array`);
  }
  return value;
}

function str(value: unknown, where: string): string {
  if (typeof value !== "string") {
    fail("bad_collateral", `${where}: expected a string`);
  }
  return value;
}

function hex(value: unknown, where: string, bytes: number): string {
  const s = str(value, where);
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(s)) {
    fail("bad_collateral", `${where}: expected ${bytes} bytes of hex, got "${s}"`);
  }
  return s.toLowerCase();
}

function int(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    fail("bad_collateral", `${where}: expected a non-negative integer`);
  }
  return value;
}

function date(value: unknown, where: string): Date {
  const s = str(value, where);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) {
    fail("bad_collateral", `${where}: "${s}" is not a date`);
  }
  return d;
}

function status(value: unknown, where: string): TcbLevelStatus {
  const s = str(value, where);
  if (!STATUSES.includes(s)) {
    fail("bad_collateral", `${where}: unknown TCB status "${s}"`);
  }
  return s as TcbLevelStatus;
}

function advisories(value: unknown, where: string): string[] {
  return value === undefined ? [] : arr(value, where).map((v, i) => str(v, `${where}[${i}]`));
}

function svns(value: unknown, where: string): number[] {
  const list = arr(value, where);
  if (list.length !== 16) {
    fail("bad_collateral", `${where}: expected 16 components, got ${list.length}`);
  }
  return list.map((c, i) => int(obj(c, `${where}[${i}]`).svn, `${where}[${i}].svn`));
}

function isvLevels(value: unknown, where: string): IsvTcbLevel[] {
  return arr(value, where).map((item, i) => {
    const level = obj(item, `${where}[${i}]`);
    return {
      isvSvn: int(obj(level.tcb, `${where}[${i}].tcb`).isvsvn, `${where}[${i}].tcb.isvsvn`),
      tcbDate: str(level.tcbDate, `${where}[${i}].tcbDate`),
      status: status(level.tcbStatus, `${where}[${i}].tcbStatus`),
      advisoryIds: advisories(level.advisoryIDs, `${where}[${i}].advisoryIDs`),
    };
  });
}

function parseJsonText(text: string, where: string): Json {
  try {
    return obj(JSON.parse(text), where);
  } catch (error) {
    return fail("bad_collateral", `${where}: not JSON (${(error as Error).message})`);
  }
}

export function parseTdxTcbInfo(text: string): TdxTcbInfo {
  const w = "tcb_info";
  const t = parseJsonText(text, w);
  if (t.id !== "TDX" || t.version !== 3) {
    fail(
      "bad_collateral",
      `${w}: expected id "TDX" version 3, got ${String(t.id)} ${String(t.version)}`,
    );
  }
  const module = obj(t.tdxModule, `${w}.tdxModule`);
  return {
    issueDate: date(t.issueDate, `${w}.issueDate`),
    nextUpdate: date(t.nextUpdate, `${w}.nextUpdate`),
    fmspc: hex(t.fmspc, `${w}.fmspc`, 6),
    pceId: hex(t.pceId, `${w}.pceId`, 2),
    tcbEvaluationDataNumber: int(t.tcbEvaluationDataNumber, `${w}.tcbEvaluationDataNumber`),
    tdxModule: {
      mrSigner: hex(module.mrsigner, `${w}.tdxModule.mrsigner`, 48),
      attributes: hex(module.attributes, `${w}.tdxModule.attributes`, 8),
      attributesMask: hex(module.attributesMask, `${w}.tdxModule.attributesMask`, 8),
    },
    tdxModuleIdentities: (t.tdxModuleIdentities === undefined
      ? []
      : arr(t.tdxModuleIdentities, `${w}.tdxModuleIdentities`)
    ).map((item, i) => {
      const where = `${w}.tdxModuleIdentities[${i}]`;
      const m = obj(item, where);
      return {
        id: str(m.id, `${where}.id`),
        mrSigner: hex(m.mrsigner, `${where}.mrsigner`, 48),
        attributes: hex(m.attributes, `${where}.attributes`, 8),
        attributesMask: hex(m.attributesMask, `${where}.attributesMask`, 8),
        tcbLevels: isvLevels(m.tcbLevels, `${where}.tcbLevels`),
      };
    }),
    tcbLevels: arr(t.tcbLevels, `${w}.tcbLevels`).map((item, i) => {
      const where = `${w}.tcbLevels[${i}]`;
      const level = obj(item, where);
      const tcb = obj(level.tcb, `${where}.tcb`);
      return {
        sgxComponents: svns(tcb.sgxtcbcomponents, `${where}.tcb.sgxtcbcomponents`),
        pceSvn: int(tcb.pcesvn, `${where}.tcb.pcesvn`),
        tdxComponents: svns(tcb.tdxtcbcomponents, `${where}.tcb.tdxtcbcomponents`),
        tcbDate: str(level.tcbDate, `${where}.tcbDate`),
        status: status(level.tcbStatus, `${where}.tcbStatus`),
        advisoryIds: advisories(level.advisoryIDs, `${where}.advisoryIDs`),
      };
    }),
  };
}

export function parseQeIdentity(text: string): QeIdentity {
  const w = "qe_identity";
  const q = parseJsonText(text, w);
  if (q.id !== "TD_QE" || q.version !== 2) {
    fail(
      "bad_collateral",
      `${w}: expected id "TD_QE" version 2, got ${String(q.id)} ${String(q.version)}`,
    );
  }
  return {
    id: q.id,
    issueDate: date(q.issueDate, `${w}.issueDate`),
    nextUpdate: date(q.nextUpdate, `${w}.nextUpdate`),
    tcbEvaluationDataNumber: int(q.tcbEvaluationDataNumber, `${w}.tcbEvaluationDataNumber`),
    miscselect: hex(q.miscselect, `${w}.miscselect`, 4),
    miscselectMask: hex(q.miscselectMask, `${w}.miscselectMask`, 4),
    attributes: hex(q.attributes, `${w}.attributes`, 16),
    attributesMask: hex(q.attributesMask, `${w}.attributesMask`, 16),
    mrSigner: hex(q.mrsigner, `${w}.mrsigner`, 32),
    isvProdId: int(q.isvprodid, `${w}.isvprodid`),
    tcbLevels: isvLevels(q.tcbLevels, `${w}.tcbLevels`),
  };
}
