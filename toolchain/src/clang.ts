// Runs clang (which drives wasm-ld) from @yowasp/clang (LLVM compiled to WebAssembly) on an
// in-memory file tree. The tree is rooted at "/" inside the tool; we only ever use
// relative paths, so no machine path can reach the output.
import { commands, runLLVM } from "@yowasp/clang";

export type FileTree = { [name: string]: FileTree | string | Uint8Array };

export class ToolError extends Error {
  readonly output: string;
  constructor(tool: string, output: string) {
    super(`${tool} failed:\n${output.trim()}`);
    this.output = output;
  }
}

function collector(): { write: (bytes: Uint8Array | null) => void; text: () => string } {
  const chunks: Uint8Array[] = [];
  return {
    write: (bytes) => {
      if (bytes) chunks.push(bytes.slice());
    },
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}

let resources: Promise<unknown> | undefined;

/** Loads LLVM's resources once, quietly (by default the package logs its progress). */
function loadResources(): Promise<unknown> {
  resources ??= Promise.resolve(runLLVM(undefined, {}, { fetchProgress: () => {} }));
  return resources;
}

export async function clang(args: string[], files: FileTree): Promise<FileTree> {
  await loadResources();
  const out = collector();
  const options = { stdout: out.write, stderr: out.write, fetchProgress: () => {} };
  try {
    const result = await commands.clang(args, files, options);
    if (!result) throw new ToolError("clang", out.text());
    return result as FileTree;
  } catch (error) {
    if (error instanceof ToolError) throw error;
    throw new ToolError(
      "clang",
      `${out.text()}\n${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** A file from a result tree, by a "dir/name" path. */
export function fileAt(tree: FileTree, filePath: string): Uint8Array {
  let node: FileTree | string | Uint8Array | undefined = tree;
  for (const part of filePath.split("/")) {
    if (node === undefined || typeof node === "string" || node instanceof Uint8Array) break;
    node = node[part];
  }
  if (node instanceof Uint8Array) return node;
  if (typeof node === "string") return new TextEncoder().encode(node);
  throw new Error(`expected output file ${filePath} is missing`);
}
