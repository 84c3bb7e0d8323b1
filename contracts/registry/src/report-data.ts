/**
 * What a TEE quote must carry in REPORTDATA (64 bytes) for evidence to count (inference-messages.ts
 * reportDataBytes): the machine's keyset_sha256 (32 bytes) followed by the registry's challenge
 * nonce (32 bytes). The keyset names the provider, this registry, the machine's signing and
 * encryption keys and its models, so the quote is bound to all of them and to a fresh nonce.
 */
import { fromHex, toHex } from "../../common/src/encoding.ts";
import { reportDataBytes } from "../../common/src/inference-messages.ts";

/** REPORTDATA (hex) from the keyset hash and the nonce (both 64 lowercase hex digits). */
export function reportDataHex(keysetSha256: string, nonce: string): string {
  return toHex(reportDataBytes(fromHex(keysetSha256), fromHex(nonce)));
}
