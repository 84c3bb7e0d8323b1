// build/contracts/manifest.json: what was built, with the hashes NEAR will report.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Contract } from "./discover.ts";
import { base58, sha256, sha256Hex } from "./hash.ts";

export type ManifestEntry = {
  name: string;
  version: string;
  /** Relative to the project root. */
  wasm: string;
  size: number;
  sha256: string;
  /** base58 of the sha256 bytes: NEAR's code_hash. */
  codeHash: string;
};

export type Manifest = { contracts: ManifestEntry[] };

export function wasmPath(outDir: string, name: string): string {
  return path.join(outDir, `${name}.wasm`);
}

export function manifestEntry(
  root: string,
  outDir: string,
  contract: Contract,
  wasm: Uint8Array,
): ManifestEntry {
  return {
    name: contract.name,
    version: contract.version,
    wasm: path.relative(root, wasmPath(outDir, contract.name)).split(path.sep).join("/"),
    size: wasm.length,
    sha256: sha256Hex(wasm),
    codeHash: base58(sha256(wasm)),
  };
}

/** Lists every discovered contract whose wasm exists (so a partial build keeps the others). */
export function writeManifest(root: string, outDir: string, contracts: Contract[]): Manifest {
  const entries: ManifestEntry[] = [];
  for (const contract of contracts) {
    const file = wasmPath(outDir, contract.name);
    if (existsSync(file))
      entries.push(manifestEntry(root, outDir, contract, new Uint8Array(readFileSync(file))));
  }
  const manifest = { contracts: entries };
  writeFileSync(path.join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export function formatTable(entries: ManifestEntry[]): string {
  const rows = [
    ["contract", "version", "size", "sha256", "code hash (base58)"],
    ...entries.map((e) => [
      e.name,
      e.version,
      `${(e.size / 1024).toFixed(1)} KiB`,
      e.sha256,
      e.codeHash,
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
