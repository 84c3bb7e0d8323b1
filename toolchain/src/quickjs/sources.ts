// The C sources of the contract engine and of qjsc: QuickJS (patched), near-sdk-js's
// builder.c (patched), and our own C files, as an in-memory file set.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { cSourcesDir, packageDir } from "../paths.ts";
import { applyPatches, quickjsAppendix, quickjsPatches } from "./patches.ts";

export type SourceFiles = Record<string, string>;

/** The engine's translation units, compiled once and cached. */
export const ENGINE_UNITS = [
  "quickjs.c",
  "libregexp.c",
  "libunicode.c",
  "cutils.c",
  "libbf.c",
  "quickjs-libc-min.c",
  "memory-words.c",
];

/** The files of the QuickJS distribution that the engine needs (not qjs, qjsc, libc, tests). */
const ENGINE_HEADERS_AND_UNITS = new Set([
  "quickjs.c",
  "quickjs.h",
  "quickjs-atom.h",
  "quickjs-opcode.h",
  "libregexp.c",
  "libregexp.h",
  "libregexp-opcode.h",
  "libunicode.c",
  "libunicode.h",
  "libunicode-table.h",
  "cutils.c",
  "cutils.h",
  "libbf.c",
  "libbf.h",
  "list.h",
]);

function quickjsDir(): string {
  return path.join(packageDir("qjsc"), "deps", "quickjs_2021_03_27");
}

/** Patched QuickJS sources plus our C files (headers included). */
export function engineSources(): SourceFiles {
  const dir = quickjsDir();
  const patches = quickjsPatches();
  const files: SourceFiles = {};
  for (const name of [...ENGINE_HEADERS_AND_UNITS].sort()) {
    let text = applyPatches(name, readFileSync(path.join(dir, name), "utf8"), patches);
    if (name === "quickjs.c") text += quickjsAppendix();
    files[name] = text;
  }
  for (const name of readdirSync(cSourcesDir).sort()) {
    files[name] = readFileSync(path.join(cSourcesDir, name), "utf8");
  }
  return files;
}

/** near-sdk-js's builder.c, pointed at our libc layer and given the extra host functions. */
export function builderSource(): string {
  const text = readFileSync(path.join(packageDir("near-sdk-js"), "builder", "builder.c"), "utf8");
  return applyPatches("builder.c", text, [
    {
      file: "builder.c",
      why: "use our minimal libc layer",
      find: '#include "../node_modules/near-sdk-js/lib/cli/deps/quickjs/quickjs-libc-min.h"',
      replace: '#include "quickjs-libc-min.h"',
    },
    {
      file: "builder.c",
      why: "libbf.h sits beside the other engine headers",
      find: '#include "../node_modules/near-sdk-js/lib/cli/deps/quickjs/libbf.h"',
      replace: '#include "libbf.h"',
    },
    {
      file: "builder.c",
      why: "expose ed25519_verify (and any other extra host function) to contract JS",
      find: "static void js_add_near_host_functions(JSContext* ctx) {",
      replace:
        '#include "near-extra-host.c"\n\nstatic void js_add_near_host_functions(JSContext* ctx) {',
    },
    {
      file: "builder.c",
      why: "register the extra host functions on `env`",
      find: '  JS_SetPropertyStr(ctx, global_obj, "env", env);',
      replace:
        '  js_add_extra_near_host_functions(ctx, env);\n  JS_SetPropertyStr(ctx, global_obj, "env", env);',
    },
    {
      file: "builder.c",
      why: 'near-sdk-js 2.0 passes function_call_weight arguments as a Uint8Array, which the glue read as a string ("123,34,...")',
      // The only use of this line is in near_promise_batch_action_function_call_weight.
      find: "  arguments_ptr = JS_ToCStringLenRaw(ctx, &arguments_len, argv[2]);",
      replace:
        '  arguments_ptr = (const char *)JS_Uint8Array_to_C(ctx, argv[2], &arguments_len);\n  if (arguments_ptr == NULL) {\n    return JS_ThrowTypeError(ctx, "Expect Uint8Array for arguments");\n  }',
    },
  ]);
}
