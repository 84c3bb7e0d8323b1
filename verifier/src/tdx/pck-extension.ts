/**
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's
 * FMSPC, PCE id and TCB (16 SGX component SVNs, PCESVN, CPUSVN), which select and match the
 * TCB level in the TCB info.
 */
import * as asn1js from "asn1js";
import { toHex } from "../bytes.ts";
import { fail } from "../errors.ts";
import type { X509Certificate } from "./x509.ts";

export const SGX_EXTENSION_OID = "1.2.840.113741.1.13.1";
const TCB_OID = `${SGX_EXTENSION_OID}.2`;
const PCEID_OID = `${SGX_EXTENSION_OID}.3`;
const FMSPC_OID = `${SGX_EXTENSION_OID}.4`;

export interface PckTcb {
  fmspc: string;
  pceId: string;
  /** SGX TCB component SVNs 1..16. */
  sgxComponents: number[];
  pceSvn: number;
  cpuSvn: string;
}

/** SEQUENCE OF SEQUENCE { OID, value } to a map from OID to value. */
function entries(node: asn1js.AsnType, where: string): Map<string, asn1js.AsnType> {
  if (!(node instanceof asn1js.Sequence)) {
    fail("bad_pck_certificate", `${where}: expected a SEQUENCE`);
  }
  const out = new Map<string, asn1js.AsnType>();
  for (const item of node.valueBlock.value) {
    if (!(item instanceof asn1js.Sequence)) {
      fail("bad_pck_certificate", `${where}: expected SEQUENCE { OID, value } entries`);
    }
    const [id, value] = item.valueBlock.value;
    if (!(id instanceof asn1js.ObjectIdentifier) || value === undefined) {
      fail("bad_pck_certificate", `${where}: entry without an OID and a value`);
    }
    out.set(id.valueBlock.toString(), value);
  }
  return out;
}

function octets(map: Map<string, asn1js.AsnType>, oid: string, length: number): string {
  const node = map.get(oid);
  if (!(node instanceof asn1js.OctetString) || node.valueBlock.valueHexView.length !== length) {
    fail("bad_pck_certificate", `SGX extension: ${oid} is missing or not ${length} bytes`);
  }
  return toHex(node.valueBlock.valueHexView);
}

function integer(map: Map<string, asn1js.AsnType>, oid: string): number {
  const node = map.get(oid);
  if (!(node instanceof asn1js.Integer)) {
    fail("bad_pck_certificate", `SGX extension: ${oid} is missing or not an INTEGER`);
  }
  return node.valueBlock.valueDec;
}

export function readPckTcb(cert: X509Certificate): PckTcb {
  const ext = cert.getExtension(SGX_EXTENSION_OID);
  if (ext === null) {
    fail("bad_pck_certificate", `PCK certificate ${cert.subject} has no SGX extension`);
  }
  const parsed = asn1js.fromBER(ext.value);
  if (parsed.offset === -1) {
    fail("bad_pck_certificate", `SGX extension: not valid DER (${parsed.result.error})`);
  }
  const top = entries(parsed.result, "SGX extension");
  const tcbNode = top.get(TCB_OID);
  if (tcbNode === undefined) {
    fail("bad_pck_certificate", "SGX extension: no TCB entry");
  }
  const tcb = entries(tcbNode, "SGX extension TCB");
  const sgxComponents: number[] = [];
  for (let i = 1; i <= 16; i++) {
    sgxComponents.push(integer(tcb, `${TCB_OID}.${i}`));
  }
  return {
    fmspc: octets(top, FMSPC_OID, 6),
    pceId: octets(top, PCEID_OID, 2),
    sgxComponents,
    pceSvn: integer(tcb, `${TCB_OID}.17`),
    cpuSvn: octets(tcb, `${TCB_OID}.18`, 16),
  };
}
