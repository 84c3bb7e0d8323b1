/**
 * Staged code blobs. store_blob takes wasm bytes as its raw input, keeps them under `b:<sha256>`
 * with their info under `bi:<sha256>`, and charges the storage to the caller's deposit. Upgrade
 * actions name a blob by its sha256; the blob's payer may remove it (and get the storage back)
 * once no proposal that names it can still execute.
 */
import { encode, near } from "near-sdk-js";
import { toHex } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import type { BlobInfo } from "../../common/src/governance-types.ts";
import { StorageMeter } from "../../common/src/storage-meter.ts";
import { requireHex } from "../../common/src/validate.ts";
import { encodeBase58 } from "./base58.ts";
import { emit } from "./events.ts";
import { LIMITS } from "./state.ts";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const blobKey = (sha256: string): Uint8Array => encode(`b:${sha256}`);
const infoKey = (sha256: string): string => `bi:${sha256}`;

export function parseCodeHash(value: unknown, field: string): string {
  return requireHex(value, field, 32, 32);
}

export function blobInfo(sha256: string): BlobInfo | null {
  const raw = near.storageRead(infoKey(sha256));
  return raw === null ? null : (JSON.parse(raw) as BlobInfo);
}

export function requireBlob(sha256: string, field: string): BlobInfo {
  const info = blobInfo(sha256);
  if (info === null) {
    fail(`${field}: no blob with sha256 ${sha256} is stored: call store_blob first`);
  }
  return info;
}

export function readBlob(sha256: string): Uint8Array | null {
  return near.storageReadRaw(blobKey(sha256));
}

/** Records that proposal `id` names the blob (its proposer pays these few bytes). */
export function addBlobReference(sha256: string, id: number): void {
  const info = requireBlob(sha256, "code_sha256");
  if (!info.proposals.includes(id)) {
    info.proposals.push(id);
    near.storageWrite(infoKey(sha256), JSON.stringify(info));
  }
}

export function storeBlob(): BlobInfo {
  const meter = new StorageMeter();
  const code = near.inputRaw();
  if (code.length < 8 || WASM_MAGIC.some((byte, i) => code[i] !== byte)) {
    fail("store_blob: the input must be wasm bytes (it starts with \\0asm)");
  }
  if (code.length > LIMITS.maxBlobBytes) {
    fail(
      `store_blob: ${code.length} bytes is more than the ${LIMITS.maxBlobBytes} a contract may be`,
    );
  }
  const digest = near.sha256(code);
  const sha256 = toHex(digest);
  if (blobInfo(sha256) !== null) {
    fail(`store_blob: a blob with sha256 ${sha256} is already stored`);
  }
  const info: BlobInfo = {
    code_sha256: sha256,
    code_hash: encodeBase58(digest),
    size: code.length,
    payer: near.predecessorAccountId(),
    stored_height: Number(near.blockHeight()),
    proposals: [],
  };
  near.storageWriteRaw(blobKey(sha256), code);
  near.storageWrite(infoKey(sha256), JSON.stringify(info));
  const settlement = meter.settle();
  emit({
    event: "blob_stored",
    data: { ...info, storage_cost: settlement.storage_cost.toString() },
  });
  return info;
}

/** `stillNeeded(id)` says whether proposal `id` may still execute. */
export function removeBlob(sha256: string, stillNeeded: (id: number) => boolean): string {
  const meter = new StorageMeter();
  const info = requireBlob(sha256, "code_sha256");
  const caller = near.predecessorAccountId();
  if (info.payer !== caller) {
    fail(`only the blob's payer (${info.payer}) may remove it; called by ${caller}`);
  }
  const live = info.proposals.filter(stillNeeded);
  if (live.length > 0) {
    fail(`code_sha256: proposal(s) ${live.join(", ")} may still execute this blob`);
  }
  near.storageRemoveRaw(blobKey(sha256));
  near.storageRemove(infoKey(sha256));
  const settlement = meter.settle();
  emit({
    event: "blob_removed",
    data: { code_sha256: sha256, payer: caller, refund: settlement.refund.toString() },
  });
  return settlement.refund.toString();
}
