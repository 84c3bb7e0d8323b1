// The contract engine (QuickJS + our libc layer) compiled to LLVM bitcode objects, and
// qjsc linked from the same objects. Both are cached on disk under a key that hashes
// every input (sources after patching, flags, compiler version), so only the first build
// on a machine pays for them.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { clang, fileAt } from "./clang.ts";
import { COMPILE_FLAGS, QJSC_LINK_FLAGS } from "./flags.ts";
import { sha256Hex } from "./hash.ts";
import { cacheDir, packageDir } from "./paths.ts";
import type { Progress } from "./progress.ts";
import { ENGINE_UNITS, engineSources, type SourceFiles } from "./quickjs/sources.ts";

export type Engine = {
  /** Hash of every input; names the cache folder. */
  key: string;
  /** Patched sources and our C files, for compiling builder.c against the same headers. */
  sources: SourceFiles;
  /** Bitcode objects by file name ("quickjs.o", ...). */
  objects: Record<string, Uint8Array>;
  /** The bytecode compiler, a WebAssembly reactor (see toolchain/c/qjsc-main.c). */
  qjsc: Uint8Array;
};

const QJSC_FILE = "qjsc.wasm";

function objectName(unit: string): string {
  return unit.replace(/\.c$/, ".o");
}

function engineKey(sources: SourceFiles): string {
  const clangVersion = JSON.parse(
    readFileSync(path.join(packageDir("@yowasp/clang"), "package.json"), "utf8"),
  ).version;
  const parts = [
    `clang ${clangVersion}`,
    `compile ${COMPILE_FLAGS.join(" ")}`,
    `qjsc ${QJSC_LINK_FLAGS.join(" ")}`,
  ];
  for (const name of Object.keys(sources).sort())
    parts.push(`${name} ${sha256Hex(sources[name] ?? "")}`);
  return sha256Hex(parts.join("\n")).slice(0, 16);
}

function readCached(dir: string): Omit<Engine, "key" | "sources"> | undefined {
  if (!existsSync(path.join(dir, QJSC_FILE))) return undefined;
  const objects: Record<string, Uint8Array> = {};
  for (const unit of ENGINE_UNITS) {
    const file = path.join(dir, objectName(unit));
    if (!existsSync(file)) return undefined;
    objects[objectName(unit)] = new Uint8Array(readFileSync(file));
  }
  return { objects, qjsc: new Uint8Array(readFileSync(path.join(dir, QJSC_FILE))) };
}

/** Writes to a private folder first and renames it, so parallel builds never see half a cache. */
function writeCache(dir: string, engine: Omit<Engine, "key" | "sources">): void {
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const [name, bytes] of Object.entries(engine.objects))
    writeFileSync(path.join(staging, name), bytes);
  writeFileSync(path.join(staging, QJSC_FILE), engine.qjsc);
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another build finished first with identical content.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
}

async function compileEngine(
  sources: SourceFiles,
  progress: Progress,
): Promise<Omit<Engine, "key" | "sources">> {
  const objects: Record<string, Uint8Array> = {};
  for (const unit of ENGINE_UNITS) {
    const output = objectName(unit);
    objects[output] = await progress.step(`compile ${unit}`, async () =>
      fileAt(
        await clang([...COMPILE_FLAGS, "-c", `src/${unit}`, "-o", output], { src: sources }),
        output,
      ),
    );
  }
  const engineObjects = Object.keys(objects).filter((name) => name !== "quickjs-libc-min.o");
  const qjsc = await progress.step("link qjsc", async () =>
    fileAt(
      await clang(
        [
          ...COMPILE_FLAGS,
          ...QJSC_LINK_FLAGS,
          "src/qjsc-main.c",
          ...engineObjects.map((name) => `obj/${name}`),
          "-lm",
          "-o",
          QJSC_FILE,
        ],
        { src: sources, obj: objects },
      ),
      QJSC_FILE,
    ),
  );
  return { objects, qjsc };
}

/** The engine for the current sources: from the cache, or compiled and cached. */
export async function prepareEngine(progress: Progress): Promise<Engine> {
  const sources = engineSources();
  const key = engineKey(sources);
  const dir = path.join(cacheDir(), `engine-${key}`);
  const cached = readCached(dir);
  if (cached) return { key, sources, ...cached };
  progress.note(
    `building the QuickJS engine (first build on this machine, about a minute); cache: ${dir}`,
  );
  const built = await compileEngine(sources, progress);
  mkdirSync(cacheDir(), { recursive: true });
  writeCache(dir, built);
  return { key, sources, ...built };
}
