// Contract-side helper for NEAR's ed25519_verify host function, which the toolchain's
// engine exposes as env.ed25519_verify(signature, message, publicKey) -> boolean.
// Import it from a contract as "@gpu-market/toolchain/contract-lib/ed25519.ts".

declare const env: {
  ed25519_verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
};

export const ED25519_SIGNATURE_LENGTH = 64;
export const ED25519_PUBLIC_KEY_LENGTH = 32;

/**
 * True when `signature` is a valid ed25519 signature of `message` by `publicKey`.
 * Throws (instead of letting the host abort the call) when a length is wrong.
 */
export function ed25519Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== ED25519_SIGNATURE_LENGTH) {
    throw new Error(
      `ed25519 signature must be ${ED25519_SIGNATURE_LENGTH} bytes, got ${signature.length}`,
    );
  }
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new Error(
      `ed25519 public key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`,
    );
  }
  return env.ed25519_verify(signature, message, publicKey) === true;
}
