// builder.c (near-sdk-js's host-function glue, patched) + the contract's bytecode +
// the cached engine objects -> one wasm module, with link-time optimisation.
import { clang, fileAt } from "./clang.ts";
import type { Engine } from "./engine.ts";
import { COMPILE_FLAGS, CONTRACT_LINK_FLAGS } from "./flags.ts";
import { bytecodeHeader } from "./qjsc.ts";
import { builderSource } from "./quickjs/sources.ts";

/**
 * The header builder.c includes at its end: our entry points (c/contract-entry.c), then one
 * exported wasm function per method.
 */
export function methodsHeader(methods: string[]): string {
  return [
    '#include "contract-entry.c"\n',
    ...methods.map((name) => `DEFINE_NEAR_METHOD(${name})\n`),
  ].join("");
}

export async function linkContract(
  engine: Engine,
  bytecode: Uint8Array,
  methods: string[],
): Promise<Uint8Array> {
  const src = {
    ...engine.sources,
    "builder.c": builderSource(),
    "code.h": bytecodeHeader(bytecode),
    "methods.h": methodsHeader(methods),
  };
  const output = "contract.wasm";
  const result = await clang(
    [
      ...COMPILE_FLAGS,
      ...CONTRACT_LINK_FLAGS,
      "src/builder.c",
      ...Object.keys(engine.objects)
        .sort()
        .map((name) => `obj/${name}`),
      "-lm",
      "-o",
      output,
    ],
    { src, obj: engine.objects },
  );
  return fileAt(result, output);
}
