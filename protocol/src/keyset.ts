/** The attested keyset's digest and REPORTDATA, computed off-chain exactly as the registry does. */
import {
  gpuNoncePreimage,
  type Keyset,
  keysetBytes,
  reportDataBytes,
} from "@gpu-market/common/src/inference-messages.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "./bytes.ts";

export function keysetSha256(keyset: Keyset): string {
  return toHex(sha256(keysetBytes(keyset)));
}

export function reportDataHex(keyset: Keyset, nonceHex: string): string {
  return toHex(reportDataBytes(sha256(keysetBytes(keyset)), fromHex(nonceHex, "nonce", 32)));
}

export function gpuNonceHex(keyset: Keyset, nonceHex: string): string {
  return toHex(
    sha256(gpuNoncePreimage(sha256(keysetBytes(keyset)), fromHex(nonceHex, "nonce", 32))),
  );
}
