/** Base58 (Bitcoin alphabet), as NEAR writes code hashes. */
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export function encodeBase58(bytes: Uint8Array): string {
  const digits: number[] = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += (digits[i] ?? 0) << 8;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = "";
  // Each leading zero byte is written as '1'.
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) {
    out += "1";
  }
  for (let i = digits.length - 1; i >= 0; i--) {
    out += ALPHABET[digits[i] ?? 0];
  }
  return out;
}
