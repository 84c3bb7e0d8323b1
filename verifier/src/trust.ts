/** Trust inputs from files and flags, shared by the CLI and the service. */
import { readFileSync } from "node:fs";
import type { JSONWebKeySet } from "jose";
import type { TrustInputs } from "./check.ts";
import { fail } from "./errors.ts";
import { DEFAULT_POLICY, type Policy, parsePolicy } from "./policy.ts";
import { type Collateral, parseCollateralJson } from "./tdx/collateral.ts";
import { CollateralCache, type CollateralCacheOptions } from "./tdx/collateral-cache.ts";
import { PccsClient } from "./tdx/pccs.ts";

export interface TrustFiles {
  rootCa: string;
  /** A collateral JSON file, used for every quote. */
  collateral?: string;
  /** Or a PCCS base URL, asked per FMSPC. */
  pccs?: string;
  /** With pccs: a folder caching its collateral per FMSPC and CA until shortly before nextUpdate. */
  collateralCache?: string;
  nvidiaJwks?: string;
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    return fail("bad_input", `${what} ${path}: ${(error as Error).message}`);
  }
}

export function loadJwks(path: string): JSONWebKeySet {
  let value: unknown;
  try {
    value = JSON.parse(readFile(path, "NVIDIA JWKS").toString("utf8"));
  } catch (error) {
    fail("bad_input", `NVIDIA JWKS ${path}: not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray((value as { keys?: unknown })?.keys)) {
    fail("bad_input", `NVIDIA JWKS ${path}: expected {"keys": [...]}`);
  }
  return value as JSONWebKeySet;
}

export function loadPolicy(path: string | undefined): Policy {
  if (path === undefined) {
    return DEFAULT_POLICY;
  }
  try {
    return parsePolicy(JSON.parse(readFile(path, "policy").toString("utf8")));
  } catch (error) {
    return fail("bad_input", `policy ${path}: ${(error as Error).message}`);
  }
}

/** Trust inputs from files; the caller adds the time to verify at. */
export function loadTrust(
  files: TrustFiles,
  cacheOptions: Pick<CollateralCacheOptions, "clock" | "log"> = {},
): Omit<TrustInputs, "now"> {
  if (files.collateralCache !== undefined && files.pccs === undefined) {
    fail("bad_input", "--collateral-cache needs --pccs: the cache is filled and refreshed from it");
  }
  const rootCa = new Uint8Array(readFile(files.rootCa, "root CA"));
  let collateral: (fmspc: string, ca: "platform" | "processor") => Promise<Collateral>;
  if (files.collateral !== undefined) {
    const fixed = parseCollateralJson(readFile(files.collateral, "collateral").toString("utf8"));
    collateral = async () => fixed;
  } else if (files.pccs !== undefined) {
    const client = new PccsClient({ baseUrl: files.pccs });
    const source =
      files.collateralCache === undefined
        ? client
        : new CollateralCache({
            ...cacheOptions,
            dir: files.collateralCache,
            source: client,
            sourceName: files.pccs,
          });
    collateral = (fmspc, ca) => source.collateral(fmspc, ca);
  } else {
    collateral = async () => {
      throw new Error("no collateral source: give a collateral file or a PCCS URL");
    };
  }
  return {
    rootCa,
    collateral,
    nvidiaJwks: files.nvidiaJwks === undefined ? null : loadJwks(files.nvidiaJwks),
  };
}
