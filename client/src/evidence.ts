/**
 * Reads the evidence bundle a machine submitted to the registry, the layout defined by
 * verifier/src/evidence.ts (kept here, small, so that the client does not load the verifier's
 * X.509 and JOSE stack):
 *   "GMEV" | version 1 | sections: kind (1 byte) | length (u32 little-endian) | bytes
 *   kind 1: TDX quote, kind 2: NVIDIA GPU evidence (text), kind 3: dev report (JSON text)
 * Bytes without the header are a bare TDX quote.
 */
import { clientError } from "./errors.ts";

const MAGIC = [0x47, 0x4d, 0x45, 0x56]; // "GMEV"
const VERSION = 1;
const KINDS = { 1: "tdxQuote", 2: "gpuEvidence", 3: "devReport" } as const;

export interface EvidenceSections {
  tdxQuote: Uint8Array | null;
  gpuEvidence: string | null;
  devReport: string | null;
}

function bad(reason: string): never {
  return clientError("attestation_failed", `evidence bundle: ${reason}`);
}

export function decodeEvidence(bytes: Uint8Array): EvidenceSections {
  const sections: EvidenceSections = { tdxQuote: null, gpuEvidence: null, devReport: null };
  if (!MAGIC.every((b, i) => bytes[i] === b)) {
    sections.tdxQuote = bytes;
    return sections;
  }
  if (bytes[4] !== VERSION) bad(`version ${bytes[4]} is not ${VERSION}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  let offset = 5;
  while (offset < bytes.length) {
    if (offset + 5 > bytes.length) bad(`section header cut short at byte ${offset}`);
    const kind = bytes[offset] as number;
    const length = view.getUint32(offset + 1, true);
    const start = offset + 5;
    if (start + length > bytes.length) bad(`section kind ${kind} runs past the end`);
    const body = bytes.subarray(start, start + length);
    offset = start + length;
    const name = KINDS[kind as keyof typeof KINDS];
    if (name === undefined) bad(`unknown section kind ${kind}`);
    if (sections[name] !== null) bad(`section kind ${kind} appears twice`);
    if (name === "tdxQuote") {
      sections.tdxQuote = body;
      continue;
    }
    try {
      sections[name] = text.decode(body);
    } catch {
      bad(`section kind ${kind} is not UTF-8 text`);
    }
  }
  return sections;
}
