// Which contracts exist: folders under contracts/ (except common) and
// sandbox-tests/test-contracts/ whose package.json has a "nearContract" field.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Standard } from "./nep330.ts";

export const CONTRACT_PARENTS = ["contracts", "sandbox-tests/test-contracts"];

export type Contract = {
  name: string;
  version: string;
  /** Absolute folder of the contract. */
  dir: string;
  /** Folder relative to the project root, with "/" separators (NEP-330 contract_path). */
  relativeDir: string;
  /** Absolute path of the entry module. */
  entry: string;
  standards: Standard[];
  link: string | null;
};

function fail(file: string, problem: string): never {
  throw new Error(`${file}: ${problem}`);
}

function parseStandards(file: string, value: unknown): Standard[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(file, `nearContract.standards must be an array`);
  return value.map((item, index) => {
    const { standard, version } = (item ?? {}) as Record<string, unknown>;
    if (typeof standard !== "string" || typeof version !== "string") {
      fail(
        file,
        `nearContract.standards[${index}] must be {"standard": string, "version": string}`,
      );
    }
    return { standard, version };
  });
}

function repositoryLink(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { url?: unknown }).url === "string") {
    return (value as { url: string }).url;
  }
  return null;
}

export function readContract(root: string, dir: string): Contract | undefined {
  const file = path.join(dir, "package.json");
  if (!existsSync(file)) return undefined;
  const pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const near = pkg.nearContract as Record<string, unknown> | undefined;
  if (near === undefined) return undefined;
  if (typeof near !== "object" || near === null) fail(file, "nearContract must be an object");
  if (typeof near.entry !== "string")
    fail(file, 'nearContract.entry must be a path such as "src/index.ts"');
  if (typeof pkg.version !== "string") fail(file, "version is missing");
  const name = path.basename(dir);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name))
    fail(file, `contract folder name "${name}" must be lower-case letters, digits, - or _`);
  const entry = path.join(dir, near.entry);
  if (!existsSync(entry)) fail(file, `nearContract.entry ${near.entry} does not exist`);
  return {
    name,
    version: pkg.version,
    dir,
    relativeDir: path.relative(root, dir).split(path.sep).join("/"),
    entry,
    standards: parseStandards(file, near.standards),
    link: typeof near.link === "string" ? near.link : repositoryLink(pkg.repository),
  };
}

/** A folder that declares a contract but cannot be built as declared. */
export type InvalidContract = { name: string; problem: string };

export type Discovery = { contracts: Contract[]; invalid: InvalidContract[] };

export function discoverContracts(root: string): Discovery {
  const contracts: Contract[] = [];
  const invalid: InvalidContract[] = [];
  for (const parent of CONTRACT_PARENTS) {
    const parentDir = path.join(root, parent);
    if (!existsSync(parentDir)) continue;
    for (const entry of readdirSync(parentDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || (parent === "contracts" && entry.name === "common")) continue;
      try {
        const contract = readContract(root, path.join(parentDir, entry.name));
        if (contract) contracts.push(contract);
      } catch (error) {
        invalid.push({
          name: entry.name,
          problem: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  contracts.sort((a, b) => a.name.localeCompare(b.name));
  for (let i = 1; i < contracts.length; i++) {
    const [a, b] = [contracts[i - 1], contracts[i]] as [Contract, Contract];
    if (a.name === b.name) {
      throw new Error(`two contracts are named ${a.name}: ${a.relativeDir} and ${b.relativeDir}`);
    }
  }
  return { contracts, invalid };
}
