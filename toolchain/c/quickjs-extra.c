
/* ---- Appended by the gpu-market toolchain (toolchain/c/quickjs-extra.c): the API that
   near-sdk-js's builder.c expects beyond stock QuickJS 2021-03-27. ---- */

/* A string whose characters are the given bytes (latin1). */
JSValue JS_NewStringLenRaw(JSContext *ctx, const char *buf, size_t len)
{
    if (len > JS_STRING_LEN_MAX)
        return JS_ThrowRangeError(ctx, "string too long");
    return js_new_string8(ctx, (const uint8_t *)buf, (int)len);
}

/* The string's characters as bytes (latin1). Like Node's Buffer.from(s, "latin1"), a
   character above U+00FF keeps its low byte. The copy is owned by the caller. */
const char *JS_ToCStringLenRaw(JSContext *ctx, size_t *plen, JSValueConst val1)
{
    JSValue val;
    JSString *str;
    uint8_t *buf;
    uint32_t i;

    *plen = 0;
    val = JS_ToString(ctx, val1);
    if (JS_IsException(val))
        return NULL;
    str = JS_VALUE_GET_STRING(val);
    buf = js_malloc(ctx, str->len + 1);
    if (!buf) {
        JS_FreeValue(ctx, val);
        return NULL;
    }
    if (str->is_wide_char) {
        for (i = 0; i < str->len; i++)
            buf[i] = str->u.str16[i] & 0xff;
    } else {
        memcpy(buf, str->u.str8, str->len);
    }
    buf[str->len] = '\0';
    *plen = str->len;
    JS_FreeValue(ctx, val);
    return (const char *)buf;
}

/* A BigInt in 0..2^64-1; anything else throws a RangeError/TypeError. */
int JS_ToBigUint64(JSContext *ctx, uint64_t *pres, JSValueConst val)
{
    bf_t a_s, *a;
    int status;

    *pres = 0;
    a = JS_ToBigInt(ctx, &a_s, val);
    if (!a)
        return -1;
    status = bf_get_uint64(pres, a);
    JS_FreeBigInt(ctx, a, &a_s);
    if (status != 0) {
        *pres = 0;
        JS_ThrowRangeError(ctx, "BigInt out of the u64 range");
        return -1;
    }
    return 0;
}

/* A Number or a BigInt in 0..2^64-1 (a Number is truncated towards zero). */
int JS_ToUint64Ext(JSContext *ctx, uint64_t *pres, JSValueConst val)
{
    double d;

    if (JS_IsBigInt(ctx, val))
        return JS_ToBigUint64(ctx, pres, val);
    *pres = 0;
    if (JS_ToFloat64(ctx, &d, val))
        return -1;
    d = trunc(d);
    if (!(d >= 0 && d < 18446744073709551616.0)) {
        JS_ThrowRangeError(ctx, "number out of the u64 range");
        return -1;
    }
    *pres = (uint64_t)d;
    return 0;
}

/* Pre-initialisation (contract-entry.c) ships the memory as it is after loading. While
   loading, freed blocks are zeroed, so that the image holds live data only (runs of zeros
   are left out of the wasm); JS_StopZeroingFreed then puts QuickJS's own functions back,
   so a call runs exactly as with JS_NewRuntime. */
size_t malloc_usable_size(void *ptr);

static void js_zeroing_free(JSMallocState *s, void *ptr)
{
    if (ptr)
        memset(ptr, 0, malloc_usable_size(ptr));
    js_def_free(s, ptr);
}

/* Always moves, so that the old block is zeroed too (dlmalloc's realloc would free it). */
static void *js_zeroing_realloc(JSMallocState *s, void *ptr, size_t size)
{
    void *copy;
    size_t old_size;

    if (!ptr)
        return size == 0 ? NULL : js_def_malloc(s, size);
    if (size == 0) {
        js_zeroing_free(s, ptr);
        return NULL;
    }
    copy = js_def_malloc(s, size);
    if (!copy)
        return NULL;
    old_size = malloc_usable_size(ptr);
    memcpy(copy, ptr, old_size < size ? old_size : size);
    js_zeroing_free(s, ptr);
    return copy;
}

static const JSMallocFunctions zeroing_malloc_funcs = {
    js_def_malloc,
    js_zeroing_free,
    js_zeroing_realloc,
    NULL,
};

JSRuntime *JS_NewRuntimeZeroingFreed(void)
{
    return JS_NewRuntime2(&zeroing_malloc_funcs, NULL);
}

void JS_StopZeroingFreed(JSRuntime *rt)
{
    rt->mf.js_free = js_def_free;
    rt->mf.js_realloc = js_def_realloc;
}
