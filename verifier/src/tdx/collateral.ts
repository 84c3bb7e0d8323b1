/**
 * Quote verification collateral: CRLs, TCB info and QE identity with their issuer chains, as a
 * PCCS-compatible service serves them. The file form is one JSON object with the fields below
 * (Phala dcap-qvl's QuoteCollateralV3 layout): CRLs as hex DER (or PEM), signatures as hex r||s,
 * tcb_info / qe_identity as the exact signed JSON text.
 */
import { fromHex } from "../bytes.ts";
import { fail } from "../errors.ts";

export interface Collateral {
  pckCrlIssuerChain: string;
  rootCaCrl: Uint8Array;
  pckCrl: Uint8Array;
  tcbInfoIssuerChain: string;
  tcbInfo: string;
  tcbInfoSignature: Uint8Array;
  qeIdentityIssuerChain: string;
  qeIdentity: string;
  qeIdentitySignature: Uint8Array;
}

const FIELDS = [
  "pck_crl_issuer_chain",
  "root_ca_crl",
  "pck_crl",
  "tcb_info_issuer_chain",
  "tcb_info",
  "tcb_info_signature",
  "qe_identity_issuer_chain",
  "qe_identity",
  "qe_identity_signature",
] as const;

function text(obj: Record<string, unknown>, field: string): string {
  const value = obj[field];
  if (typeof value !== "string" || value.length === 0) {
    fail("bad_collateral", `collateral.${field}: expected a non-empty string`);
  }
  return value;
}

/** A CRL given as hex DER or PEM. */
export function crlBytes(value: string, field: string): Uint8Array {
  const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(value);
  if (pem !== null) {
    return new Uint8Array(Buffer.from((pem[1] ?? "").replace(/\s+/g, ""), "base64"));
  }
  return fromHex(value.trim(), field);
}

export function parseCollateral(value: unknown): Collateral {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("bad_collateral", "collateral: expected a JSON object");
  }
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    fail("bad_collateral", `collateral: unknown field(s) ${unknown.join(", ")}`);
  }
  return {
    pckCrlIssuerChain: text(obj, "pck_crl_issuer_chain"),
    rootCaCrl: crlBytes(text(obj, "root_ca_crl"), "collateral.root_ca_crl"),
    pckCrl: crlBytes(text(obj, "pck_crl"), "collateral.pck_crl"),
    tcbInfoIssuerChain: text(obj, "tcb_info_issuer_chain"),
    tcbInfo: text(obj, "tcb_info"),
    tcbInfoSignature: fromHex(text(obj, "tcb_info_signature"), "collateral.tcb_info_signature", 64),
    qeIdentityIssuerChain: text(obj, "qe_identity_issuer_chain"),
    qeIdentity: text(obj, "qe_identity"),
    qeIdentitySignature: fromHex(
      text(obj, "qe_identity_signature"),
      "collateral.qe_identity_signature",
      64,
    ),
  };
}

export function parseCollateralJson(json: string): Collateral {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    fail("bad_collateral", `collateral: not JSON (${(error as Error).message})`);
  }
  return parseCollateral(value);
}

/** The file form of `collateral` (inverse of parseCollateral). */
export function collateralToJson(c: Collateral): Record<string, string> {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return {
    pck_crl_issuer_chain: c.pckCrlIssuerChain,
    root_ca_crl: hex(c.rootCaCrl),
    pck_crl: hex(c.pckCrl),
    tcb_info_issuer_chain: c.tcbInfoIssuerChain,
    tcb_info: c.tcbInfo,
    tcb_info_signature: hex(c.tcbInfoSignature),
    qe_identity_issuer_chain: c.qeIdentityIssuerChain,
    qe_identity: c.qeIdentity,
    qe_identity_signature: hex(c.qeIdentitySignature),
  };
}
