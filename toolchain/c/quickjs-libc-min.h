/* The minimal "libc" layer that near-sdk-js's builder.c includes: the engine API our
   QuickJS patches make public, plus module loading and the job loop. Our own code. */
#ifndef QUICKJS_LIBC_MIN_H
#define QUICKJS_LIBC_MIN_H

#include <stdint.h>
#include <stdlib.h>
#include "quickjs.h"
#include "libbf.h"
#include "cutils.h" /* TRUE/FALSE, which builder.c uses */

/* Made public by the patch step (toolchain/src/quickjs/patches.ts). */
JSValue JS_NewBigInt(JSContext *ctx);
bf_t *JS_GetBigInt(JSValueConst val);
JSValue js_get_module_ns(JSContext *ctx, JSModuleDef *m);

/* Added to quickjs.c by the patch step (toolchain/c/quickjs-extra.c). */
JSValue JS_NewStringLenRaw(JSContext *ctx, const char *buf, size_t len);
const char *JS_ToCStringLenRaw(JSContext *ctx, size_t *plen, JSValueConst val);
int JS_ToBigUint64(JSContext *ctx, uint64_t *pres, JSValueConst val);
int JS_ToUint64Ext(JSContext *ctx, uint64_t *pres, JSValueConst val);
/* A runtime that zeroes the blocks it frees, until JS_StopZeroingFreed (pre-initialisation). */
JSRuntime *JS_NewRuntimeZeroingFreed(void);
void JS_StopZeroingFreed(JSRuntime *rt);

/* Reads module bytecode, links and evaluates it; returns its namespace object.
   Panics (NEAR panic_utf8) with the engine's message when that fails. */
JSValue js_load_module_binary(JSContext *ctx, const uint8_t *buf, size_t buf_len);

/* Runs pending jobs (promise reactions) until none is left; panics if one throws. */
void js_std_loop(JSContext *ctx);

#endif
