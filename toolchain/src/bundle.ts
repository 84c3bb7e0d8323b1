// Contract TypeScript -> one ES module, with near-sdk-js's own rollup + babel pipeline
// (its decorator handling and the exporter plugin that turns @NearBindgen methods into
// exported functions). Its dependencies are resolved from near-sdk-js's install.
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { packageDir, toolchainDir } from "./paths.ts";

export type Bundle = { code: string; exports: string[] };

const sdkRequire = createRequire(path.join(packageDir("near-sdk-js"), "package.json"));

async function sdkImport<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(sdkRequire.resolve(name)).href)) as T;
}

function sdkTool(relative: string): string {
  return path.join(packageDir("near-sdk-js"), relative);
}

// The slices of rollup 2 and its plugins that we call (they are near-sdk-js's dependencies).
type Plugin = { name: string; resolveId?(source: string, importer?: string): string | null };
type Warning = { code?: string; message: string };
type OutputChunk = { code: string; exports: string[] };
type Rollup = {
  rollup(options: { input: string; plugins: Plugin[]; onwarn(warning: Warning): void }): Promise<{
    generate(options: {
      format: "es";
      sourcemap: false;
    }): Promise<{ output: [OutputChunk, ...unknown[]] }>;
    close(): Promise<void>;
  }>;
};
type NodeResolve = { nodeResolve(options: { extensions: string[] }): Plugin };
type Babel = { babel(options: Record<string, unknown>): Plugin };

/**
 * Replacements for what near-sdk-js imports, resolved for near-sdk-js's own modules only:
 * lodash-es (for cloneDeep alone) is 54 KB of every bundle.
 */
const SDK_SHIMS: Record<string, string> = {
  "lodash-es": path.join(toolchainDir, "contract-lib", "clone-deep.ts"),
};

function sdkShims(): Plugin {
  // Real paths: rollup reports importers with symlinks resolved (node_modules may be a link).
  const sdkDir = `${realpathSync(packageDir("near-sdk-js"))}${path.sep}`;
  return {
    name: "gpu-market-sdk-shims",
    resolveId(source, importer) {
      const shim = SDK_SHIMS[source];
      if (shim === undefined || importer === undefined) return null;
      return realpathSync(importer).startsWith(sdkDir) ? shim : null;
    },
  };
}

export async function bundleContract(entry: string): Promise<Bundle> {
  const { rollup } = await sdkImport<Rollup>("rollup");
  const { nodeResolve } = await sdkImport<NodeResolve>("@rollup/plugin-node-resolve");
  const { babel } = await sdkImport<Babel>("@rollup/plugin-babel");
  const problems: string[] = [];
  const build = await rollup({
    input: entry,
    plugins: [
      sdkShims(),
      nodeResolve({ extensions: [".js", ".ts"] }),
      babel({
        babelHelpers: "bundled",
        babelrc: false,
        configFile: false,
        extensions: [".ts", ".js", ".mjs"],
        presets: [sdkRequire.resolve("@babel/preset-typescript")],
        plugins: [
          sdkTool("lib/cli/build-tools/include-bytes.js"),
          [sdkTool("lib/cli/build-tools/near-bindgen-exporter.js"), { verbose: false }],
          [sdkRequire.resolve("@babel/plugin-proposal-decorators"), { version: "legacy" }],
        ],
      }),
    ],
    onwarn(warning) {
      // A contract is a single module: whatever rollup cannot resolve would fail on chain.
      if (warning.code === "UNRESOLVED_IMPORT" || warning.code === "MISSING_EXPORT")
        problems.push(warning.message);
    },
  });
  const { output } = await build.generate({ format: "es", sourcemap: false });
  await build.close();
  if (problems.length > 0) throw new Error(problems.join("\n"));
  const chunk = output[0];
  return { code: chunk.code, exports: [...chunk.exports].sort() };
}
