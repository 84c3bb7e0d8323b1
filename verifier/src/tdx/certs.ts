/**
 * Certificate chains and CRLs under Intel's SGX root CA: every chain must end in the trusted
 * root (byte for byte), each certificate must be signed by the next and valid at `now`, CA
 * certificates must be CAs, and no certificate may be listed in its issuer's CRL.
 */
import { equalBytes } from "../bytes.ts";
import { fail } from "../errors.ts";
import { BasicConstraintsExtension, X509Certificate, X509Crl } from "./x509.ts";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function parsePemChain(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    fail("bad_certificate", `${what}: no PEM certificate found`);
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      return fail(
        "bad_certificate",
        `${what}: certificate ${i} does not parse (${(error as Error).message})`,
      );
    }
  });
}

export function parseCrl(der: Uint8Array, what: string): X509Crl {
  try {
    return new X509Crl(der);
  } catch (error) {
    return fail("bad_crl", `${what}: does not parse (${(error as Error).message})`);
  }
}

function describe(cert: X509Certificate): string {
  return cert.subject.replace(/,.*$/, "");
}

function checkValidity(cert: X509Certificate, now: Date, what: string): void {
  if (now < cert.notBefore) {
    fail(
      "certificate_not_yet_valid",
      `${what}: ${describe(cert)} is valid from ${cert.notBefore.toISOString()}, ` +
        `after ${now.toISOString()}`,
    );
  }
  if (now > cert.notAfter) {
    fail(
      "certificate_expired",
      `${what}: ${describe(cert)} expired at ${cert.notAfter.toISOString()}, ` +
        `before ${now.toISOString()}`,
    );
  }
}

function isCa(cert: X509Certificate): boolean {
  const ext = cert.getExtension(BasicConstraintsExtension);
  return ext?.ca === true;
}

/** CRLs by issuer distinguished name; each must already be verified. */
export type CrlSet = Map<string, X509Crl>;

/** Fails unless `chain` ends in `root`, byte for byte. */
export function requireTrustedTop(
  chain: X509Certificate[],
  root: X509Certificate,
  what: string,
): void {
  const top = chain[chain.length - 1] as X509Certificate;
  if (!equalBytes(new Uint8Array(top.rawData), new Uint8Array(root.rawData))) {
    fail(
      "untrusted_root",
      `${what}: ends in ${describe(top)} (serial ${top.serialNumber}), ` +
        `not the trusted Intel SGX root CA (serial ${root.serialNumber})`,
    );
  }
}

/**
 * Verifies `chain` (leaf first, ending in the root) up to `root`; every non-root certificate
 * must be covered by a CRL in `crls` issued by its issuer and not listed there.
 */
export async function verifyChain(
  chain: X509Certificate[],
  root: X509Certificate,
  crls: CrlSet,
  now: Date,
  what: string,
): Promise<void> {
  if (chain.length < 2) {
    fail("bad_certificate_chain", `${what}: ${chain.length} certificate(s), expected at least 2`);
  }
  requireTrustedTop(chain, root, what);
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1] ?? root;
    checkValidity(cert, now, what);
    if (cert.issuer !== issuer.subject) {
      fail(
        "bad_certificate_chain",
        `${what}: ${describe(cert)} is issued by "${cert.issuer}", not by the next certificate ` +
          `"${issuer.subject}"`,
      );
    }
    if (i > 0 && !isCa(cert)) {
      fail(
        "bad_certificate_chain",
        `${what}: ${describe(cert)} issues certificates but is not a CA`,
      );
    }
    const signed = await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
    if (!signed) {
      fail(
        "certificate_signature_invalid",
        `${what}: the signature of ${describe(cert)} (serial ${cert.serialNumber}) ` +
          `does not verify with the key of ${describe(issuer)}`,
      );
    }
    if (i === chain.length - 1) {
      continue;
    }
    const crl = crls.get(cert.issuer);
    if (crl === undefined) {
      fail("crl_missing", `${what}: no CRL from ${describe(issuer)} to check ${describe(cert)}`);
    }
    if (crl.findRevoked(cert) !== null) {
      fail(
        "certificate_revoked",
        `${what}: ${describe(cert)} (serial ${cert.serialNumber}) is revoked by ${describe(issuer)}`,
      );
    }
  }
}

/** Checks a CRL's signature by `issuer` and that `now` lies in [thisUpdate, nextUpdate]. */
export async function verifyCrl(
  crl: X509Crl,
  issuer: X509Certificate,
  now: Date,
  what: string,
): Promise<void> {
  if (crl.issuer !== issuer.subject) {
    fail("bad_crl", `${what}: issued by "${crl.issuer}", expected "${issuer.subject}"`);
  }
  if (!(await crl.verify({ publicKey: issuer.publicKey }))) {
    fail(
      "crl_signature_invalid",
      `${what}: signature does not verify with the key of ${describe(issuer)}`,
    );
  }
  if (now < crl.thisUpdate) {
    fail(
      "crl_not_yet_valid",
      `${what}: issued at ${crl.thisUpdate.toISOString()}, after ${now.toISOString()}`,
    );
  }
  if (crl.nextUpdate === undefined || now > crl.nextUpdate) {
    fail(
      "crl_expired",
      `${what}: expired at ${crl.nextUpdate?.toISOString() ?? "(no nextUpdate)"}, ` +
        `before ${now.toISOString()}`,
    );
  }
}
