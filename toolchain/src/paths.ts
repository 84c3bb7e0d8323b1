// Where things are: the repository, this package, and installed npm packages.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const toolchainDir: string = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
export const repoRoot: string = path.resolve(toolchainDir, "..");
export const cSourcesDir: string = path.join(toolchainDir, "c");

/** The folder of an installed package, found the way Node would (nearest node_modules up). */
export function packageDir(name: string): string {
  for (let dir = toolchainDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`npm package ${name} is not installed`);
  }
}

/** Engine objects and the compiled qjsc live here, keyed by a hash of their inputs. */
export function cacheDir(): string {
  return (
    process.env.GPU_MARKET_TOOLCHAIN_CACHE ??
    path.join(repoRoot, "node_modules", ".cache", "gpu-market-toolchain")
  );
}
