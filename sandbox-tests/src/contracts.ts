/** Locates contracts built by `npm run build:contracts` through the build manifest. */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUILD_DIR = fileURLToPath(new URL("../../build/contracts/", import.meta.url));

interface ManifestEntry {
  name: string;
  wasm: string;
  sha256: string;
  codeHash: string;
  size: number;
}

function manifest(): ManifestEntry[] {
  const path = `${BUILD_DIR}manifest.json`;
  if (!existsSync(path)) {
    throw new Error(`no contract build at ${path}: run \`npm run build:contracts\` first`);
  }
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  const contracts = (parsed as { contracts?: ManifestEntry[] }).contracts;
  if (!Array.isArray(contracts)) {
    throw new Error(`${path} has no "contracts" list`);
  }
  return contracts;
}

/** Absolute path of a built contract's wasm, e.g. contractWasm("probe"). */
export function contractWasm(name: string): string {
  const entry = manifest().find((c) => c.name === name);
  if (!entry) {
    throw new Error(`contract "${name}" is not in the build manifest`);
  }
  return `${BUILD_DIR}${name}.wasm`;
}

/** The base58 code hash NEAR reports for a built contract. */
export function contractCodeHash(name: string): string {
  const entry = manifest().find((c) => c.name === name);
  if (!entry) {
    throw new Error(`contract "${name}" is not in the build manifest`);
  }
  return entry.codeHash;
}
