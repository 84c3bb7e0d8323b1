// Contract TypeScript -> one ES module, with near-sdk-js's own rollup + babel pipeline
// (its decorator handling and the exporter plugin that turns @NearBindgen methods into
// exported functions). Its dependencies are resolved from near-sdk-js's install.
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { packageDir } from "./paths.ts";

export type Bundle = { code: string; exports: string[] };

const sdkRequire = createRequire(path.join(packageDir("near-sdk-js"), "package.json"));

async function sdkImport<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(sdkRequire.resolve(name)).href)) as T;
}

function sdkTool(relative: string): string {
  return path.join(packageDir("near-sdk-js"), relative);
}

type Rollup = typeof import("rollup");
type NodeResolve = typeof import("@rollup/plugin-node-resolve");
type Babel = typeof import("@rollup/plugin-babel");

export async function bundleContract(entry: string): Promise<Bundle> {
  const { rollup } = await sdkImport<Rollup>("rollup");
  const { nodeResolve } = await sdkImport<NodeResolve>("@rollup/plugin-node-resolve");
  const { babel } = await sdkImport<Babel>("@rollup/plugin-babel");
  const problems: string[] = [];
  const build = await rollup({
    input: entry,
    plugins: [
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
