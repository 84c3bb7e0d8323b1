/**
 * The contracts' wasm: rebuilt from source through the project's reproducible toolchain, or read
 * from a previous build (build/contracts), always with the sha256 and NEAR code hash recomputed
 * from the bytes actually deployed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Progress } from "@gpu-market/toolchain/src/progress.ts";
import { baseEncode } from "near-api-js";
import { CliError } from "./errors.ts";
import type { Io } from "./io.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type ContractName = "registry" | "escrow" | "governance";
export const MARKET_CONTRACTS: ContractName[] = ["governance", "registry", "escrow"];

export interface Artifact {
  name: string;
  wasm: Uint8Array;
  sha256: string;
  codeHash: string;
}

export function artifactOf(name: string, wasm: Uint8Array): Artifact {
  const digest = createHash("sha256").update(wasm).digest();
  return { name, wasm, sha256: digest.toString("hex"), codeHash: baseEncode(digest) };
}

function ioProgress(io: Io, prefix = ""): Progress {
  return {
    async step(label, work) {
      io.progress(`${prefix}${label} ...`);
      return work();
    },
    note: (text) => io.progress(`${prefix}${text}`),
    scoped: (inner) => ioProgress(io, `${prefix}${inner}: `),
  };
}

/** Rebuilds contracts from this checkout's sources into a temporary folder. */
export async function rebuild(names: string[], io: Io, root = REPO_ROOT): Promise<Artifact[]> {
  // Loaded on demand: the toolchain (rollup, babel, clang) takes a second or two to import.
  const { buildContracts } = await import("@gpu-market/toolchain/src/build.ts");
  const outDir = mkdtempSync(join(tmpdir(), "gpu-market-build-"));
  try {
    const entries = await buildContracts(names, { root, outDir, progress: ioProgress(io) });
    return entries.map((entry) =>
      artifactOf(entry.name, new Uint8Array(readFileSync(join(outDir, `${entry.name}.wasm`)))),
    );
  } catch (error) {
    throw new CliError(`building ${names.join(", ")} failed: ${(error as Error).message}`, {
      hint: "fix the contract source, or run `npm run build:contracts` to see every step",
      cause: error,
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** Reads contracts built earlier by `npm run build:contracts`. */
export function prebuilt(names: string[], root = REPO_ROOT): Artifact[] {
  return names.map((name) => {
    const path = join(root, "build", "contracts", `${name}.wasm`);
    if (!existsSync(path)) {
      throw new CliError(`${path} does not exist`, {
        hint: "run `npm run build:contracts`, or drop --no-build so deploy builds them",
      });
    }
    return artifactOf(name, new Uint8Array(readFileSync(path)));
  });
}
