/**
 * The REPORTDATA the registry requires (contracts/registry/src/report-data.ts):
 * sha256("gpumarket/v1/report-data" || 0 || registry || 0 || provider || 0 || machine key (32
 * bytes) || nonce (32 bytes)) followed by 32 zero bytes. Computed here so that anyone can check
 * evidence without the chain; the service reads the same value from the registry's
 * expected_report_data view.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base58 } from "@scure/base";
import { concatBytes, fromHex, toHex } from "./bytes.ts";
import { fail } from "./errors.ts";

export const REPORT_DATA_DOMAIN = "gpumarket/v1/report-data";
const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;

function account(value: string, field: string): Uint8Array {
  if (value.length < 2 || value.length > 64 || !ACCOUNT_ID.test(value)) {
    fail("bad_input", `${field}: "${value}" is not a NEAR account id`);
  }
  return new TextEncoder().encode(value);
}

/** "ed25519:<base58>" to its 32 key bytes. */
export function machineKeyBytes(key: string): Uint8Array {
  if (!key.startsWith("ed25519:")) {
    fail("bad_input", `machine key: expected "ed25519:<base58>", got "${key}"`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(key.slice("ed25519:".length));
  } catch {
    return fail("bad_input", `machine key: "${key}" is not base58`);
  }
  if (bytes.length !== 32) {
    fail("bad_input", `machine key: an ed25519 key is 32 bytes, this one is ${bytes.length}`);
  }
  return bytes;
}

export function expectedReportData(
  registry: string,
  provider: string,
  machineKey: string,
  nonceHex: string,
): string {
  const zero = new Uint8Array([0]);
  const digest = sha256(
    concatBytes(
      new TextEncoder().encode(REPORT_DATA_DOMAIN),
      zero,
      account(registry, "registry"),
      zero,
      account(provider, "provider"),
      zero,
      machineKeyBytes(machineKey),
      fromHex(nonceHex, "nonce", 32),
    ),
  );
  return toHex(concatBytes(digest, new Uint8Array(32)));
}
