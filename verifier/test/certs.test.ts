/** Chain and CRL rules on a generated PKI (root, intermediate CA, leaf), where revocation can be tested. */
import type { webcrypto } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { VerificationError } from "../src/errors.ts";
import { type CrlSet, verifyChain, verifyCrl } from "../src/tdx/certs.ts";
import {
  BasicConstraintsExtension,
  type X509Certificate,
  X509CertificateGenerator,
  type X509Crl,
  X509CrlGenerator,
} from "../src/tdx/x509.ts";

const ALG = { name: "ECDSA", hash: "SHA-256" };
const NOW = new Date("2030-06-01T00:00:00Z");
const FROM = new Date("2030-01-01T00:00:00Z");
const TO = new Date("2031-01-01T00:00:00Z");

type CryptoKey = webcrypto.CryptoKey;
type Keys = webcrypto.CryptoKeyPair;
let rootKeys: Keys;
let caKeys: Keys;
let root: X509Certificate;
let ca: X509Certificate;
let leaf: X509Certificate;

const newKeys = () =>
  crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);

function issue(
  subject: string,
  issuer: X509Certificate,
  signingKey: CryptoKey,
  publicKey: CryptoKey,
  options: { isCa?: boolean; notAfter?: Date; serial?: string } = {},
): Promise<X509Certificate> {
  return X509CertificateGenerator.create({
    serialNumber: options.serial ?? "0a",
    subject,
    issuer: issuer.subject,
    notBefore: FROM,
    notAfter: options.notAfter ?? TO,
    signingAlgorithm: ALG,
    publicKey,
    signingKey,
    extensions: options.isCa ? [new BasicConstraintsExtension(true, 0, true)] : [],
  });
}

function crl(
  issuer: X509Certificate,
  signingKey: CryptoKey,
  revoked: string[] = [],
  nextUpdate = TO,
): Promise<X509Crl> {
  return X509CrlGenerator.create({
    issuer: issuer.subject,
    thisUpdate: FROM,
    nextUpdate,
    signingAlgorithm: ALG,
    signingKey,
    entries: revoked.map((serialNumber) => ({ serialNumber, revocationDate: FROM })),
  });
}

async function failure(run: () => Promise<void>): Promise<VerificationError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof VerificationError) {
      return error;
    }
    throw error;
  }
  throw new Error("unexpectedly passed");
}

beforeAll(async () => {
  rootKeys = await newKeys();
  caKeys = await newKeys();
  root = await X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=Test Root",
    keys: rootKeys,
    signingAlgorithm: ALG,
    notBefore: FROM,
    notAfter: TO,
    extensions: [new BasicConstraintsExtension(true, 1, true)],
  });
  ca = await issue("CN=Test CA", root, rootKeys.privateKey, caKeys.publicKey, {
    isCa: true,
    serial: "02",
  });
  leaf = await issue("CN=Test Leaf", ca, caKeys.privateKey, (await newKeys()).publicKey, {
    serial: "03",
  });
});

async function crls(caRevoked: string[] = [], rootRevoked: string[] = []): Promise<CrlSet> {
  return new Map([
    [root.subject, await crl(root, rootKeys.privateKey, rootRevoked)],
    [ca.subject, await crl(ca, caKeys.privateKey, caRevoked)],
  ]);
}

describe("certificate chains and CRLs", () => {
  test("a valid chain with clean CRLs passes", async () => {
    await verifyChain([leaf, ca, root], root, await crls(), NOW, "chain");
  });

  test("a leaf listed in its issuer's CRL is revoked", async () => {
    const set = await crls(["03"]);
    const error = await failure(() => verifyChain([leaf, ca, root], root, set, NOW, "chain"));
    expect(error.code).toBe("certificate_revoked");
    expect(error.message).toBe("chain: CN=Test Leaf (serial 03) is revoked by CN=Test CA");
  });

  test("an intermediate listed in the root CRL is revoked", async () => {
    const set = await crls([], ["02"]);
    const error = await failure(() => verifyChain([leaf, ca, root], root, set, NOW, "chain"));
    expect(error.code).toBe("certificate_revoked");
    expect(error.message).toMatch(/CN=Test CA \(serial 02\) is revoked by CN=Test Root/);
  });

  test("a certificate without a CRL from its issuer is refused", async () => {
    const set: CrlSet = new Map([[root.subject, await crl(root, rootKeys.privateKey)]]);
    const error = await failure(() => verifyChain([leaf, ca, root], root, set, NOW, "chain"));
    expect(error.code).toBe("crl_missing");
  });

  test("an expired leaf is refused with its expiry", async () => {
    const old = await issue("CN=Old Leaf", ca, caKeys.privateKey, (await newKeys()).publicKey, {
      notAfter: new Date("2030-03-01T00:00:00Z"),
    });
    const error = await failure(async () =>
      verifyChain([old, ca, root], root, await crls(), NOW, "chain"),
    );
    expect(error.code).toBe("certificate_expired");
    expect(error.message).toBe(
      "chain: CN=Old Leaf expired at 2030-03-01T00:00:00.000Z, before 2030-06-01T00:00:00.000Z",
    );
  });

  test("an issuer that is not a CA is refused", async () => {
    const notCaKeys = await newKeys();
    const notCa = await issue("CN=Not A CA", root, rootKeys.privateKey, notCaKeys.publicKey, {
      serial: "04",
    });
    const child = await issue("CN=Child", notCa, notCaKeys.privateKey, (await newKeys()).publicKey);
    const set = await crls();
    set.set(notCa.subject, await crl(notCa, notCaKeys.privateKey));
    const error = await failure(() => verifyChain([child, notCa, root], root, set, NOW, "chain"));
    expect(error.code).toBe("bad_certificate_chain");
    expect(error.message).toBe("chain: CN=Not A CA issues certificates but is not a CA");
  });

  test("CRLs: wrong signer and expiry are refused", async () => {
    const forged = await crl(ca, rootKeys.privateKey);
    const bad = await failure(() => verifyCrl(forged, ca, NOW, "CA CRL"));
    expect(bad.code).toBe("crl_signature_invalid");
    const stale = await crl(ca, caKeys.privateKey, [], new Date("2030-02-01T00:00:00Z"));
    const expired = await failure(() => verifyCrl(stale, ca, NOW, "CA CRL"));
    expect(expired.code).toBe("crl_expired");
    await verifyCrl(await crl(ca, caKeys.privateKey), ca, NOW, "CA CRL");
  });
});
