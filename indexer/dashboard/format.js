/** Formatting of u128 amounts (decimal strings, never floats), times and ids. */

const YOCTO = 10n ** 24n;

/**
 * yoctoNEAR (decimal string) as NEAR with up to `digits` decimals, e.g. "1.25".
 * @param {string | null | undefined} yocto @param {number} [digits]
 */
export function near(yocto, digits = 4) {
  if (yocto === null || yocto === undefined || !/^\d+$/.test(yocto)) return "–";
  const value = BigInt(yocto);
  const whole = value / YOCTO;
  const scale = 10n ** BigInt(24 - digits);
  // Round half up at the last shown digit.
  const fraction = ((value % YOCTO) + scale / 2n) / scale;
  const carry = fraction >= 10n ** BigInt(digits) ? 1n : 0n;
  const digitsText = (fraction % 10n ** BigInt(digits))
    .toString()
    .padStart(digits, "0")
    .replace(/0+$/, "");
  const wholeText = (whole + carry).toLocaleString("en-US");
  if (value > 0n && whole + carry === 0n && digitsText === "")
    return `<0.${"0".repeat(digits - 1)}1`;
  return digitsText === "" ? wholeText : `${wholeText}.${digitsText}`;
}

/**
 * yoctoNEAR as a JS number of NEAR, for chart scales only (never for money arithmetic).
 * @param {string} yocto
 */
export function nearNumber(yocto) {
  const value = BigInt(yocto);
  return Number(value / 10n ** 12n) / 1e12;
}

/**
 * "0.5" (NEAR) to yoctoNEAR as a decimal string; null when the text is not a NEAR amount.
 * @param {string} text
 */
export function parseNear(text) {
  const match = /^(\d{1,15})(?:\.(\d{1,24}))?$/.exec(text.trim());
  if (match === null) return null;
  const whole = BigInt(match[1] ?? "0");
  const fraction = BigInt((match[2] ?? "").padEnd(24, "0"));
  return (whole * YOCTO + fraction).toString();
}

/**
 * Token base units with `decimals`, e.g. governance tokens.
 * @param {string} amount @param {number} decimals
 */
export function units(amount, decimals) {
  if (!/^\d+$/.test(amount)) return "–";
  const value = BigInt(amount);
  const scale = 10n ** BigInt(decimals);
  const whole = value / scale;
  const fraction =
    decimals === 0
      ? ""
      : (value % scale).toString().padStart(decimals, "0").slice(0, 2).replace(/0+$/, "");
  return fraction === ""
    ? whole.toLocaleString("en-US")
    : `${whole.toLocaleString("en-US")}.${fraction}`;
}

/** Block timestamp (ns, decimal string) to milliseconds. @param {string} ns */
export function nsToMs(ns) {
  return Number(BigInt(ns) / 1_000_000n);
}

/** @param {string | null | undefined} ns */
export function clock(ns) {
  if (ns === null || ns === undefined) return "–";
  return new Date(nsToMs(ns)).toLocaleTimeString("en-GB", { hour12: false });
}

/** Seconds between two ns timestamps, e.g. "+4.2 s". @param {string} from @param {string} to */
export function after(from, to) {
  const ms = nsToMs(to) - nsToMs(from);
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 120_000) return `+${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `+${Math.round(ms / 60_000)} min`;
  return `+${(ms / 3_600_000).toFixed(1)} h`;
}

/** MiB as GiB text. @param {number} mib */
export function gib(mib) {
  return `${Math.round(mib / 1024)} GiB`;
}

/** Shortens long hashes and keys: "ed25519:6E8s…x9Qa". @param {string | null | undefined} text */
export function short(text, keep = 6) {
  if (text === null || text === undefined) return "–";
  return text.length <= keep * 2 + 1 ? text : `${text.slice(0, keep)}…${text.slice(-keep)}`;
}

/** Compares decimal id strings numerically. @param {string} a @param {string} b */
export function compareIds(a, b) {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
