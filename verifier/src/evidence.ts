/**
 * The evidence bundle a provider submits to the registry (the bytes the registry hashes):
 *
 *   "GMEV" | version (1 byte, 1) | sections...
 *   section = kind (1 byte) | length (u32 little-endian) | bytes
 *   kind 1: Intel TDX quote (binary, required for tee_type "tdx")
 *   kind 2: NVIDIA GPU evidence: NRAS attestation result (JSON text or a single JWT)
 *   kind 3: development report (JSON, tee_type "none-dev" only; see dev-report.ts)
 *
 * Binary so that a 5 KB quote plus GPU tokens fits the registry's max_evidence_bytes. Bytes
 * without the bundle header are taken for a bare quote (a bundle holding only that quote), so
 * that the quote parser says what it found (version, TEE type, ...) when it is not one it reads.
 */
import { ByteReader, concatBytes } from "./bytes.ts";
import { fail } from "./errors.ts";

const MAGIC = new TextEncoder().encode("GMEV");
const VERSION = 1;
const KIND_TDX_QUOTE = 1;
const KIND_GPU = 2;
const KIND_DEV = 3;

export interface EvidenceBundle {
  tdxQuote: Uint8Array | null;
  gpuEvidence: string | null;
  devReport: string | null;
}

function hasMagic(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

function section(kind: number, bytes: Uint8Array): Uint8Array {
  const head = new Uint8Array(5);
  head[0] = kind;
  new DataView(head.buffer).setUint32(1, bytes.length, true);
  return concatBytes(head, bytes);
}

export function encodeEvidence(bundle: Partial<EvidenceBundle>): Uint8Array {
  const parts: Uint8Array[] = [MAGIC, new Uint8Array([VERSION])];
  if (bundle.tdxQuote) {
    parts.push(section(KIND_TDX_QUOTE, bundle.tdxQuote));
  }
  if (bundle.gpuEvidence) {
    parts.push(section(KIND_GPU, new TextEncoder().encode(bundle.gpuEvidence)));
  }
  if (bundle.devReport) {
    parts.push(section(KIND_DEV, new TextEncoder().encode(bundle.devReport)));
  }
  return concatBytes(...parts);
}

export function decodeEvidence(bytes: Uint8Array): EvidenceBundle {
  const bundle: EvidenceBundle = { tdxQuote: null, gpuEvidence: null, devReport: null };
  if (!hasMagic(bytes)) {
    bundle.tdxQuote = bytes;
    return bundle;
  }
  const r = new ByteReader(bytes, "evidence bundle");
  r.take(MAGIC.length, "magic");
  const version = r.take(1, "version")[0];
  if (version !== VERSION) {
    fail(
      "bad_evidence",
      `evidence bundle: version ${version} is not supported (expected ${VERSION})`,
    );
  }
  const text = new TextDecoder("utf-8", { fatal: true });
  while (r.offset < bytes.length) {
    const kind = r.take(1, "section kind")[0];
    const body = r.take(r.u32("section length"), `section ${kind}`);
    const seen =
      (kind === KIND_TDX_QUOTE && bundle.tdxQuote) ||
      (kind === KIND_GPU && bundle.gpuEvidence) ||
      (kind === KIND_DEV && bundle.devReport);
    if (seen) {
      fail("bad_evidence", `evidence bundle: section kind ${kind} appears twice`);
    }
    try {
      if (kind === KIND_TDX_QUOTE) {
        bundle.tdxQuote = body;
      } else if (kind === KIND_GPU) {
        bundle.gpuEvidence = text.decode(body);
      } else if (kind === KIND_DEV) {
        bundle.devReport = text.decode(body);
      } else {
        fail("bad_evidence", `evidence bundle: unknown section kind ${kind}`);
      }
    } catch (error) {
      if (error instanceof TypeError) {
        fail("bad_evidence", `evidence bundle: section kind ${kind} is not UTF-8 text`);
      }
      throw error;
    }
  }
  return bundle;
}
