/** The real TDX quote, collateral and Intel root CA from ../shared/fixtures/tdx/, read at test time. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Collateral, parseCollateralJson } from "../src/tdx/collateral.ts";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/tdx/", import.meta.url));

export const FIXTURE_DIR = DIR;
export const QUOTE_PATH = `${DIR}tdx_quote.bin`;
export const COLLATERAL_PATH = `${DIR}tdx_quote_collateral.json`;
export const ROOT_CA_PATH = `${DIR}intel_sgx_root_ca.der`;

/** Inside every validity window of the fixture's collateral. */
export const NOW = new Date("2025-06-25T00:00:00Z");
/** The fixture quote's REPORTDATA. */
export const QUOTE_REPORT_DATA =
  "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9" +
  "eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20";
export const QUOTE_MRTD =
  "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";

export function quote(): Uint8Array {
  return new Uint8Array(readFileSync(QUOTE_PATH));
}

export function rootCa(): Uint8Array {
  return new Uint8Array(readFileSync(ROOT_CA_PATH));
}

export function collateralText(): string {
  return readFileSync(COLLATERAL_PATH, "utf8");
}

export function collateral(): Collateral {
  return parseCollateralJson(collateralText());
}
