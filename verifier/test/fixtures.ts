/**
 * Real TDX quotes, their collateral and Intel's SGX root CA, from fixtures/tdx/ (see its README
 * for where each file comes from). The collateral has long expired: tests verify at a pinned
 * time inside its validity window.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Collateral, parseCollateralJson } from "../src/tdx/collateral.ts";

const DIR = fileURLToPath(new URL("./fixtures/tdx/", import.meta.url));

export const ROOT_CA_PATH = `${DIR}intel-sgx-root-ca.der`;

/** Version 4 (TD report 1.0), FMSPC b0c06f000000: verifies UpToDate at NOW. */
export const QUOTE_PATH = `${DIR}v4-b0c06f000000/quote.bin`;
export const COLLATERAL_PATH = `${DIR}v4-b0c06f000000/collateral.json`;
/** Inside every validity window of the v4 collateral. */
export const NOW = new Date("2025-06-25T00:00:00Z");
/** The v4 quote's REPORTDATA and MRTD. */
export const QUOTE_REPORT_DATA =
  "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9" +
  "eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20";
export const QUOTE_MRTD =
  "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";

/** Version 5 quotes (TD report 1.5) of three FMSPC 90c06f000000 platforms, one collateral. */
const V5 = `${DIR}v5-90c06f000000/`;
export const V5_COLLATERAL_PATH = `${V5}collateral.json`;
export const V5_QUOTE_PATHS = {
  /** Google's go-tdx-guest sample: UpToDate. */
  upToDate: `${V5}quote-up-to-date.bin`,
  /** Alibaba Cloud: OutOfDate (platform and TDX module), a migration service TD bound. */
  outOfDate: `${V5}quote-out-of-date.bin`,
  /** dcap-qvl's "outdated" sample: an SGX component below every TCB level. */
  noTcbLevel: `${V5}quote-no-tcb-level.bin`,
} as const;
/** Inside every validity window of the v5 collateral. */
export const V5_NOW = new Date("2026-03-01T00:00:00Z");

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

export function quote(): Uint8Array {
  return readBytes(QUOTE_PATH);
}

export function rootCa(): Uint8Array {
  return readBytes(ROOT_CA_PATH);
}

export function collateral(): Collateral {
  return parseCollateralJson(readFileSync(COLLATERAL_PATH, "utf8"));
}

export function v5Quote(name: keyof typeof V5_QUOTE_PATHS): Uint8Array {
  return readBytes(V5_QUOTE_PATHS[name]);
}

export function v5Collateral(): Collateral {
  return parseCollateralJson(readFileSync(V5_COLLATERAL_PATH, "utf8"));
}
