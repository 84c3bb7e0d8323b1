/**
 * The client's own attestation check with a real TDX quote (verifier/test/fixtures/tdx, see its
 * README for the sources). The quote's REPORTDATA is fixed, so the on-chain records here are built
 * around it: keyset_sha256 = its first 32 bytes, the registry's nonce = its last 32.
 */
import { readFileSync } from "node:fs";
import type { Measurements } from "@gpu-market/common/src/registry-types.ts";
import { sha256Hex } from "@gpu-market/protocol";
import { type Collateral, Quote, utils } from "@phala/dcap-qvl";
import { describe, expect, it } from "vitest";
import { checkAttestation, type EvidenceOnChain } from "../src/attestation.ts";
import { ClientError } from "../src/errors.ts";
import { decodeEvidence } from "../src/evidence.ts";

const FIXTURES = new URL("../../verifier/test/fixtures/tdx/", import.meta.url);
const QUOTE = new Uint8Array(readFileSync(new URL("v4-b0c06f000000/quote.bin", FIXTURES)));
const COLLATERAL = JSON.parse(
  readFileSync(new URL("v4-b0c06f000000/collateral.json", FIXTURES), "utf8"),
) as Collateral;
const ROOT_CA = new Uint8Array(readFileSync(new URL("intel-sgx-root-ca.der", FIXTURES)));
/** Inside the collateral's validity window. */
const NOW = () => new Date("2025-06-25T00:00:00Z");
const REPORT_DATA =
  "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9" +
  "eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20";
const KEYSET = REPORT_DATA.slice(0, 64);
const NONCE = REPORT_DATA.slice(64);
const OPTIONS = { collateral: COLLATERAL, rootCaDer: ROOT_CA, now: NOW };

function measurementsOf(quote: Uint8Array): Measurements {
  const td = Quote.parse(quote).report.asTd10();
  if (td === null) throw new Error("fixture: not a TD 1.0 report");
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return {
    mrtd: hex(td.mrTd),
    rtmr0: hex(td.rtMr0),
    rtmr1: hex(td.rtMr1),
    rtmr2: hex(td.rtMr2),
    rtmr3: hex(td.rtMr3),
    gpu_driver: "",
    gpu_vbios: "",
  };
}

/** A GMEV bundle (verifier/src/evidence.ts layout) of the given sections. */
function bundle(sections: [number, Uint8Array][]): Uint8Array {
  const parts: Buffer[] = [Buffer.from("GMEV"), Buffer.from([1])];
  for (const [kind, body] of sections) {
    const head = Buffer.alloc(5);
    head[0] = kind;
    head.writeUInt32LE(body.length, 1);
    parts.push(head, Buffer.from(body));
  }
  return new Uint8Array(Buffer.concat(parts));
}

function onChain(evidence: Uint8Array, changes: Partial<EvidenceOnChain> = {}): EvidenceOnChain {
  return {
    machineId: "3",
    teeType: "tdx",
    latest: { hash: sha256Hex(evidence), nonce: NONCE },
    attestation: null,
    keysetSha256: KEYSET,
    allowedTcbStatuses: ["UpToDate"],
    allowDevMachines: false,
    ...changes,
  };
}

async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  expect((error as ClientError).code).toBe(code);
  expect((error as ClientError).message).toMatch(message);
}

describe("attestation check with a real TDX quote", () => {
  it("verifies the bare quote: Intel's chain, UpToDate, REPORTDATA = keyset_sha256 || nonce", async () => {
    const report = await checkAttestation(QUOTE, onChain(QUOTE), OPTIONS);
    expect(report).toMatchObject({
      machineId: "3",
      teeType: "tdx",
      evidenceSha256: sha256Hex(QUOTE),
      tcbStatus: "UpToDate",
      advisoryIds: [],
      reportData: REPORT_DATA,
    });
    expect(report.mrtd).toMatch(/^91eb2b44d141d4ece09f0c75c2c53d24/);
    expect(report.rtmr).toHaveLength(4);
  });

  it("verifies the quote inside an evidence bundle, against Intel's production root by default", async () => {
    const evidence = bundle([
      [1, QUOTE],
      [2, new TextEncoder().encode("gpu tokens")],
    ]);
    const report = await checkAttestation(evidence, onChain(evidence), {
      collateral: COLLATERAL,
      now: NOW,
    });
    expect(report.tcbStatus).toBe("UpToDate");
  });

  it("refuses a quote whose REPORTDATA is not the keyset the registry lists", async () => {
    await refused(
      checkAttestation(QUOTE, onChain(QUOTE, { keysetSha256: "00".repeat(32) }), OPTIONS),
      "attestation_failed",
      /machine 3: REPORTDATA 9a9d48e7.* is not sha256\(keyset\) \|\| nonce = 0{64}eca3efdb.*the quote does not vouch for the keys/,
    );
  });

  it("refuses a quote made for another challenge nonce (replayed evidence)", async () => {
    const chain = onChain(QUOTE, { latest: { hash: sha256Hex(QUOTE), nonce: "11".repeat(32) } });
    await refused(checkAttestation(QUOTE, chain, OPTIONS), "attestation_failed", /REPORTDATA/);
  });

  it("refuses evidence the chain does not record", async () => {
    await refused(
      checkAttestation(
        QUOTE,
        onChain(QUOTE, { latest: { hash: "aa".repeat(32), nonce: NONCE } }),
        OPTIONS,
      ),
      "attestation_failed",
      /the endpoint serves evidence with sha256 [0-9a-f]{64}, which is neither the machine's latest evidence \(a{64}\) nor its attested evidence \(none\)/,
    );
  });

  it("checks the attested evidence's measurements against the quote's", async () => {
    const measurements = measurementsOf(QUOTE);
    const attested = {
      evidence_hash: sha256Hex(QUOTE),
      nonce: NONCE,
      measurements,
    };
    // The latest evidence is newer (pending); the served one is the attested one.
    const chain = onChain(QUOTE, {
      latest: { hash: "bb".repeat(32), nonce: "22".repeat(32) },
      attestation: attested,
    });
    expect((await checkAttestation(QUOTE, chain, OPTIONS)).tcbStatus).toBe("UpToDate");
    const wrong = { ...attested, measurements: { ...measurements, rtmr1: "00".repeat(48) } };
    await refused(
      checkAttestation(QUOTE, { ...chain, attestation: wrong }, OPTIONS),
      "attestation_failed",
      /the quote's rtmr1 [0-9a-f]{96} differs from the attested 0{96}/,
    );
  });

  it("refuses a TCB status outside the accepted ones", async () => {
    await refused(
      checkAttestation(QUOTE, onChain(QUOTE, { allowedTcbStatuses: ["OutOfDate"] }), OPTIONS),
      "attestation_failed",
      /TCB status UpToDate is not accepted \(accepted: OutOfDate\)/,
    );
  });

  it("refuses a quote whose collateral has expired", async () => {
    await refused(
      checkAttestation(QUOTE, onChain(QUOTE), { ...OPTIONS, now: () => new Date("2026-06-01") }),
      "attestation_failed",
      /the TDX quote does not verify: .*expired/i,
    );
  });

  it("refuses a quote with a flipped signature byte", async () => {
    const forged = new Uint8Array(QUOTE);
    forged[700] = (forged[700] ?? 0) ^ 1;
    await refused(
      checkAttestation(forged, onChain(forged), OPTIONS),
      "attestation_failed",
      /the TDX quote does not verify/,
    );
  });

  it("refuses a quote chaining to another root CA", async () => {
    // The quote's own PCK certificate: a real certificate with another key than Intel's root.
    const [pck] = utils.extractCerts(Buffer.from(Quote.parse(QUOTE).rawCertChain()));
    const otherRoot = new Uint8Array(pck ?? []);
    await refused(
      checkAttestation(QUOTE, onChain(QUOTE), { ...OPTIONS, rootCaDer: otherRoot }),
      "attestation_failed",
      /the TDX quote does not verify/,
    );
  });

  it("refuses a tdx machine whose evidence holds no quote, and TEEs it cannot check", async () => {
    const noQuote = bundle([[2, new TextEncoder().encode("gpu only")]]);
    await refused(
      checkAttestation(noQuote, onChain(noQuote), OPTIONS),
      "attestation_failed",
      /the evidence holds no TDX quote/,
    );
    await refused(
      checkAttestation(QUOTE, onChain(QUOTE, { teeType: "sev-snp" }), OPTIONS),
      "attestation_failed",
      /the client checks TDX quotes; this machine's TEE is sev-snp/,
    );
  });
});

describe("dev machines (none-dev: no TEE, no quote)", () => {
  const devReport = (reportData: string) =>
    bundle([[3, new TextEncoder().encode(JSON.stringify({ report_data: reportData, mrtd: "" }))]]);

  it("are refused unless allowDevMachines, with a clear reason", async () => {
    const evidence = devReport(REPORT_DATA);
    await refused(
      checkAttestation(evidence, onChain(evidence, { teeType: "none-dev" }), OPTIONS),
      "dev_machine",
      /machine 3 is a none-dev machine: it runs in no TEE and has no quote.*pass allowDevMachines/,
    );
  });

  it("are accepted with allowDevMachines when the dev report binds the keyset", async () => {
    const evidence = devReport(REPORT_DATA);
    const chain = onChain(evidence, { teeType: "none-dev", allowDevMachines: true });
    expect(await checkAttestation(evidence, chain, OPTIONS)).toMatchObject({
      tcbStatus: "dev",
      reportData: REPORT_DATA,
      mrtd: null,
    });
    const other = devReport("00".repeat(64));
    await refused(
      checkAttestation(
        other,
        { ...chain, latest: { hash: sha256Hex(other), nonce: NONCE } },
        OPTIONS,
      ),
      "attestation_failed",
      /the dev report's report_data 0{128} is not sha256\(keyset\) \|\| nonce/,
    );
  });
});

describe("evidence bundle", () => {
  it("reads each section and takes headerless bytes for a bare quote", () => {
    expect(decodeEvidence(QUOTE).tdxQuote).toEqual(QUOTE);
    const sections = decodeEvidence(
      bundle([
        [1, new Uint8Array([1, 2])],
        [2, new TextEncoder().encode("g")],
        [3, new TextEncoder().encode("{}")],
      ]),
    );
    expect(sections).toEqual({
      tdxQuote: new Uint8Array([1, 2]),
      gpuEvidence: "g",
      devReport: "{}",
    });
  });

  it("refuses malformed bundles, naming what is wrong", () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array([...Buffer.from("GMEV"), 2]), /version 2 is not 1/],
      [bundle([[9, new Uint8Array(1)]]), /unknown section kind 9/],
      [
        bundle([
          [1, new Uint8Array(1)],
          [1, new Uint8Array(1)],
        ]),
        /section kind 1 appears twice/,
      ],
      [bundle([[1, new Uint8Array(4)]]).subarray(0, 12), /section kind 1 runs past the end/],
      [new Uint8Array([...Buffer.from("GMEV"), 1, 1, 0]), /section header cut short at byte 5/],
      [bundle([[3, new Uint8Array([0xff])]]), /section kind 3 is not UTF-8 text/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeEvidence(bytes)).toThrow(message);
    }
  });
});
