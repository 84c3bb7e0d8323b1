/**
 * The report bodies a TDX quote carries (Intel TDX DCAP Quote Generation and Verification
 * Library, appendix A): the TD report of TDX 1.0 (584 bytes), the TD report of TDX 1.5 (the
 * same followed by TEE_TCB_SVN2 and MRSERVICETD, 648 bytes) and the Quoting Enclave's SGX
 * enclave report (384 bytes).
 */
import { ByteReader, toHex } from "../bytes.ts";

export const TD_REPORT_10_BYTES = 584;
export const TD_REPORT_15_BYTES = 648;
export const ENCLAVE_REPORT_BYTES = 384;

export interface TdReport {
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
  /** TD report 1.5 only: the TEE TCB SVN of the TDX module the TD runs on now (after updates). */
  teeTcbSvn2: Uint8Array | null;
  /** TD report 1.5 only: the measurement of the service TD bound to this TD (zeros: none). */
  mrServiceTd: Uint8Array | null;
}

/** An SGX enclave report body: here, the Quoting Enclave's. */
export interface EnclaveReport {
  raw: Uint8Array;
  cpuSvn: Uint8Array;
  miscSelect: Uint8Array;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
}

/** Reads a TD report 1.0, or 1.5 when `v15`, from `r`. */
export function readTdReport(r: ByteReader, v15: boolean): TdReport {
  return {
    teeTcbSvn: r.take(16, "report.tee_tcb_svn"),
    mrSeam: r.take(48, "report.mr_seam"),
    mrSignerSeam: r.take(48, "report.mr_signer_seam"),
    seamAttributes: r.take(8, "report.seam_attributes"),
    tdAttributes: r.take(8, "report.td_attributes"),
    xfam: r.take(8, "report.xfam"),
    mrTd: r.take(48, "report.mr_td"),
    mrConfigId: r.take(48, "report.mr_config_id"),
    mrOwner: r.take(48, "report.mr_owner"),
    mrOwnerConfig: r.take(48, "report.mr_owner_config"),
    rtmr: [
      r.take(48, "report.rtmr0"),
      r.take(48, "report.rtmr1"),
      r.take(48, "report.rtmr2"),
      r.take(48, "report.rtmr3"),
    ],
    reportData: r.take(64, "report.report_data"),
    teeTcbSvn2: v15 ? r.take(16, "report.tee_tcb_svn2") : null,
    mrServiceTd: v15 ? r.take(48, "report.mr_service_td") : null,
  };
}

export function parseEnclaveReport(raw: Uint8Array): EnclaveReport {
  const r = new ByteReader(raw, "QE report");
  const cpuSvn = r.take(16, "cpu_svn");
  const miscSelect = r.take(4, "misc_select");
  r.take(28, "reserved1");
  const attributes = r.take(16, "attributes");
  const mrEnclave = r.take(32, "mr_enclave");
  r.take(32, "reserved2");
  const mrSigner = r.take(32, "mr_signer");
  r.take(96, "reserved3");
  const isvProdId = r.u16("isv_prod_id");
  const isvSvn = r.u16("isv_svn");
  r.take(60, "reserved4");
  const reportData = r.take(64, "report_data");
  return {
    raw,
    cpuSvn,
    miscSelect,
    attributes,
    mrEnclave,
    mrSigner,
    isvProdId,
    isvSvn,
    reportData,
  };
}

/** The TD's measurements and identity fields as lowercase hex, for verdicts and display. */
export function describeTdReport(report: TdReport): Record<string, string> {
  const fields: Record<string, string> = {
    tee_tcb_svn: toHex(report.teeTcbSvn),
    mr_seam: toHex(report.mrSeam),
    mr_signer_seam: toHex(report.mrSignerSeam),
    seam_attributes: toHex(report.seamAttributes),
    td_attributes: toHex(report.tdAttributes),
    xfam: toHex(report.xfam),
    mrtd: toHex(report.mrTd),
    mr_config_id: toHex(report.mrConfigId),
    mr_owner: toHex(report.mrOwner),
    mr_owner_config: toHex(report.mrOwnerConfig),
    rtmr0: toHex(report.rtmr[0]),
    rtmr1: toHex(report.rtmr[1]),
    rtmr2: toHex(report.rtmr[2]),
    rtmr3: toHex(report.rtmr[3]),
    report_data: toHex(report.reportData),
  };
  if (report.teeTcbSvn2 !== null) {
    fields.tee_tcb_svn2 = toHex(report.teeTcbSvn2);
  }
  if (report.mrServiceTd !== null) {
    fields.mr_service_td = toHex(report.mrServiceTd);
  }
  return fields;
}
