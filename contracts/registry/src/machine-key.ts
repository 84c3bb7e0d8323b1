/**
 * Machine public keys: "ed25519:<base58 of 32 bytes>", generated inside the TEE, and the proof that
 * the provider registering one holds its private half.
 */
import { near } from "near-sdk-js";
import { ed25519Verify } from "../../../toolchain/contract-lib/ed25519.ts";
import { parseEd25519Key } from "../../common/src/ed25519-key.ts";
import { fromHex } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import {
  MACHINE_KEY_PROOF_VERSION,
  machineKeyProofBytes,
} from "../../common/src/inference-messages.ts";
import { requireHex } from "../../common/src/validate.ts";

/** The machine key as registered (add_machine, submit_evidence). */
export const parseMachineKey = parseEd25519Key;

/**
 * Fails unless `value` (args.machine_key_signature) is `key`'s ed25519 signature over sha256 of the
 * canonical machine-key document naming this registry, `provider` and the nonce of the provider's
 * challenge for the key. Without it a provider could register a key it saw in another provider's
 * request_challenge (with junk evidence) and keep it from its holder.
 */
export function requireKeyProof(
  value: unknown,
  key: string,
  provider: string,
  nonce: string,
): void {
  if (value === undefined) {
    fail(
      "machine_key_signature: required: the machine key's ed25519 signature (128 hex digits) over " +
        `sha256 of the ${MACHINE_KEY_PROOF_VERSION} document {registry, account, signing_key, nonce}`,
    );
  }
  const signature = requireHex(value, "machine_key_signature", 64, 64);
  const digest = near.sha256(
    machineKeyProofBytes({
      registry: near.currentAccountId(),
      account: provider,
      signing_key: key,
      nonce,
    }),
  );
  const publicKey = parseMachineKey(key, "machine_public_key").bytes;
  if (!ed25519Verify(fromHex(signature), digest, publicKey)) {
    fail(
      `machine_key_signature: not a signature by ${key} over provider ${provider} and the nonce ` +
        `${nonce} of its challenge`,
    );
  }
}
