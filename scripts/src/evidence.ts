/**
 * The evidence a machine submits, in the verifier's bundle format (verifier/src/evidence.ts):
 * a TDX quote (from configfs-tsm, or a file) with optional NVIDIA GPU evidence, or for none-dev
 * machines a development report stating the REPORTDATA. REPORTDATA is the machine's keyset_sha256
 * then the challenge nonce; a quote given as a file must already carry it: it is checked before
 * anything is sent.
 */
import { readFileSync } from "node:fs";
import { CliError, messageOf } from "./errors.ts";
import type { Hardware } from "./gpu/hardware.ts";
import { type TsmFs, tsmQuote } from "./tee/configfs-tsm.ts";

export type TeeType = "tdx" | "none-dev";

export interface EvidenceSource {
  tee: TeeType;
  /** A GMEV bundle or a bare TDX quote, made out of band (--evidence). */
  evidencePath?: string;
  /** NVIDIA GPU evidence: the NRAS attestation result, JSON or a JWT (--gpu-token). */
  gpuTokenPath?: string;
  tsmRoot: string;
  tsmFs?: TsmFs;
}

export interface BuiltEvidence {
  bytes: Uint8Array;
  source: "configfs-tsm" | "file" | "dev-report";
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new CliError(`${what}: cannot read ${path}: ${messageOf(error)}`);
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** The TDX quote's REPORTDATA must be the registry's; otherwise the verifiers would reject it. */
async function checkQuote(quote: Uint8Array, reportDataHex: string, origin: string): Promise<void> {
  const { parseTdxQuote } = await verifier();
  let reportData: string;
  try {
    reportData = hex(parseTdxQuote(quote).report.reportData);
  } catch (error) {
    throw new CliError(`${origin}: not a TDX quote (${messageOf(error)})`);
  }
  if (reportData !== reportDataHex) {
    throw new CliError(
      `${origin}: the quote's REPORTDATA ${reportData} is not the registry's challenge ${reportDataHex}`,
      {
        hint: `produce a new quote with REPORTDATA ${reportDataHex} (valid until the challenge expires) and run again with --evidence`,
      },
    );
  }
}

/** The verifier library, loaded on demand (its X.509 stack is slow to import). */
export function verifier() {
  return import("@gpu-market/verifier");
}

export async function buildEvidence(
  source: EvidenceSource,
  reportDataHex: string,
  hardware: Hardware,
): Promise<BuiltEvidence> {
  const { decodeEvidence, devReportJson, encodeEvidence } = await verifier();
  if (source.tee === "none-dev") {
    const gpu = hardware.gpus[0];
    const devReport = devReportJson({
      reportData: reportDataHex,
      measurements: {
        mrtd: "",
        rtmr0: "",
        rtmr1: "",
        rtmr2: "",
        rtmr3: "",
        gpu_driver: gpu?.driver ?? "",
        gpu_vbios: gpu?.vbios ?? "",
      },
    });
    return { bytes: encodeEvidence({ devReport }), source: "dev-report" };
  }
  const gpuEvidence =
    source.gpuTokenPath === undefined ? null : readText(source.gpuTokenPath, "--gpu-token");
  if (source.evidencePath !== undefined) {
    const bytes = new Uint8Array(readFileSync(source.evidencePath));
    let bundle: ReturnType<typeof decodeEvidence>;
    try {
      bundle = decodeEvidence(bytes);
    } catch (error) {
      throw new CliError(`--evidence ${source.evidencePath}: ${messageOf(error)}`);
    }
    if (bundle.tdxQuote === null) {
      throw new CliError(`--evidence ${source.evidencePath}: holds no TDX quote`);
    }
    await checkQuote(bundle.tdxQuote, reportDataHex, `--evidence ${source.evidencePath}`);
    return {
      bytes: encodeEvidence({ ...bundle, gpuEvidence: bundle.gpuEvidence ?? gpuEvidence }),
      source: "file",
    };
  }
  const got = await tsmQuote(Buffer.from(reportDataHex, "hex"), source.tsmRoot, source.tsmFs);
  if (got.provider !== "tdx_guest") {
    throw new CliError(`configfs-tsm provider is ${got.provider}, not tdx_guest`, {
      hint: "this CLI registers TDX machines; SEV-SNP evidence is not accepted by the verifiers yet",
    });
  }
  return { bytes: encodeEvidence({ tdxQuote: got.quote, gpuEvidence }), source: "configfs-tsm" };
}
