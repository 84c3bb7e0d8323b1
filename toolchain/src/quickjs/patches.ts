// Our changes to QuickJS 2021-03-27 (as shipped in the qjsc npm package) so that it runs
// as near-sdk-js expects. Applied at build time to an in-memory copy of the sources;
// every `find` must occur exactly `count` times or the build stops.
import { readFileSync } from "node:fs";
import path from "node:path";
import { cSourcesDir } from "../paths.ts";

export type Patch = {
  file: string;
  why: string;
  find: string;
  replace: string;
  count?: number;
};

function cSource(name: string): string {
  return readFileSync(path.join(cSourcesDir, name), "utf8");
}

export function quickjsPatches(): Patch[] {
  return [
    {
      file: "quickjs.c",
      why: "builder.c creates BigInts (u128 amounts) itself",
      find: "static JSValue JS_NewBigInt(JSContext *ctx)",
      replace: "JSValue JS_NewBigInt(JSContext *ctx)",
      count: 2,
    },
    {
      file: "quickjs.c",
      why: "builder.c reads and writes a BigInt's libbf payload",
      find: "static inline bf_t *JS_GetBigInt(JSValueConst val)",
      replace: "bf_t *JS_GetBigInt(JSValueConst val)",
    },
    {
      file: "quickjs.c",
      why: "the loader returns the contract module's namespace (its exported methods)",
      find: "static JSValue js_get_module_ns(JSContext *ctx, JSModuleDef *m)",
      replace: "JSValue js_get_module_ns(JSContext *ctx, JSModuleDef *m)",
      count: 2,
    },
    {
      file: "quickjs.c",
      why: "no cycle collection triggered by object allocation: a contract call is short-lived and its gas must not depend on GC timing",
      find: "    js_trigger_gc(ctx->rt, sizeof(JSObject));\n    p = js_malloc(ctx, sizeof(JSObject));",
      replace: "    p = js_malloc(ctx, sizeof(JSObject));",
    },
    {
      file: "quickjs.c",
      why: "WebAssembly has no FE_DOWNWARD/FE_UPWARD rounding: find exact ties by printing all digits",
      find: "/* buf1 contains the printf result */\n",
      replace: `${cSource("dtoa-ties.c")}/* buf1 contains the printf result */\n`,
    },
    {
      file: "quickjs.c",
      why: "toPrecision/toExponential: exact ties round away from zero without fesetround",
      find: [
        "            if (buf1[n_digits] == '5') {",
        "                js_ecvt1(d, n_digits + 1, &decpt1, &sign1, buf1, FE_DOWNWARD,",
        "                         buf_tmp, sizeof(buf_tmp));",
        "                js_ecvt1(d, n_digits + 1, &decpt2, &sign2, buf2, FE_UPWARD,",
        "                         buf_tmp, sizeof(buf_tmp));",
        "                if (memcmp(buf1, buf2, n_digits + 1) == 0 && decpt1 == decpt2) {",
        "                    /* exact result: round away from zero */",
        "                    if (sign1)",
        "                        rounding_mode = FE_DOWNWARD;",
        "                    else",
        "                        rounding_mode = FE_UPWARD;",
        "                }",
        "            }",
        "",
      ].join("\n"),
      replace: [
        "            if (buf1[n_digits] == '5' &&",
        "                js_ecvt_round_tie_away(d, n_digits, decpt, sign, buf))",
        "                return n_digits;",
        "",
      ].join("\n"),
    },
    {
      file: "quickjs.c",
      why: "toFixed: exact ties round away from zero without fesetround",
      find: [
        "        if (buf1[n1 - 1] == '5') {",
        "            n1 = js_fcvt1(buf1, sizeof(buf1), d, n_digits + 1, FE_DOWNWARD);",
        "            n2 = js_fcvt1(buf2, sizeof(buf2), d, n_digits + 1, FE_UPWARD);",
        "            if (n1 == n2 && memcmp(buf1, buf2, n1) == 0) {",
        "                /* exact result: round away from zero */",
        "                if (buf1[0] == '-')",
        "                    rounding_mode = FE_DOWNWARD;",
        "                else",
        "                    rounding_mode = FE_UPWARD;",
        "            }",
        "        }",
        "",
      ].join("\n"),
      replace: [
        "        if (buf1[n1 - 1] == '5' &&",
        "            js_fcvt_round_tie_away(buf, buf_size, d, n_digits))",
        "            return;",
        "",
      ].join("\n"),
    },
    {
      file: "libbf.c",
      why: "bf_set_ui shifted a 32-bit limb by 32 when the high word has its top bit set (undefined; on wasm it keeps the value and corrupts u128 amounts)",
      find: "        r->tab[1] = (a1 << shift) | (a0 >> (LIMB_BITS - shift));",
      replace: "        r->tab[1] = (a1 << shift) | (shift == 0 ? 0 : a0 >> (LIMB_BITS - shift));",
    },
  ];
}

/** Appended to quickjs.c: the extra API (latin1 strings, u64 conversions). */
export function quickjsAppendix(): string {
  return cSource("quickjs-extra.c");
}

export function applyPatches(name: string, text: string, patches: Patch[]): string {
  let result = text;
  for (const patch of patches) {
    if (patch.file !== name) continue;
    const found = result.split(patch.find).length - 1;
    const expected = patch.count ?? 1;
    if (found !== expected) {
      throw new Error(
        `patch "${patch.why}" expects ${expected} match(es) in ${name}, found ${found}: are these the QuickJS 2021-03-27 sources?`,
      );
    }
    result = result.split(patch.find).join(patch.replace);
  }
  return result;
}
