/**
 * What a TEE quote must carry in REPORTDATA (64 bytes) for evidence to count:
 * sha256("gpumarket/v1/report-data" || 0x00 || registry || 0x00 || provider || 0x00 ||
 * machine_public_key (32 bytes) || nonce (32 bytes)) followed by 32 zero bytes.
 * It binds the quote to this registry, this provider, this machine key and a fresh nonce.
 */
import { near } from "near-sdk-js";
import { asciiBytes, concatBytes, toHex } from "../../common/src/encoding.ts";

export const REPORT_DATA_DOMAIN = "gpumarket/v1/report-data";

export function reportDataHex(
  registry: string,
  provider: string,
  machineKey: Uint8Array,
  nonce: Uint8Array,
): string {
  const zero = new Uint8Array([0]);
  const digest = near.sha256(
    concatBytes(
      asciiBytes(REPORT_DATA_DOMAIN),
      zero,
      asciiBytes(registry),
      zero,
      asciiBytes(provider),
      zero,
      machineKey,
      nonce,
    ),
  );
  return toHex(concatBytes(digest, new Uint8Array(32)));
}
