/*
 * The contract's entry points, included at the end of near-sdk-js's builder.c (through the
 * generated methods.h) in place of its DEFINE_NEAR_METHOD.
 *
 * near-sdk-js starts QuickJS, adds the host functions and loads the contract's bytecode on
 * every call, which is most of what a call costs. Here gpu_market_preinit does that once,
 * at build time: the build (toolchain/src/preinit.ts) runs it in a memory laid out as NEAR
 * lays it out, then writes the memory back into the wasm as data segments and removes
 * gpu_market_preinit. NEAR gives every call a fresh memory made from those segments, so
 * every call starts with the engine and the module ready, as they were after loading.
 */

/* What the build needs to know about the memory after gpu_market_preinit. */
struct gm_preinit_info {
  uint32_t memory_pages; /* memory size it ran with: a call needs at least this much */
  uint32_t bytecode;     /* where the bytecode lies; unused after loading */
  uint32_t bytecode_size;
  uint32_t stack_low;    /* the stack, empty again when gpu_market_preinit returns */
  uint32_t stack_high;
};

/* Defined by wasm-ld around the stack. */
extern unsigned char __stack_low[], __stack_high[];

/* Set by gpu_market_preinit, so part of the memory image; zero means not pre-initialised. */
static JSContext *gm_ctx;
static JSValue gm_module;
static struct gm_preinit_info gm_info;

__attribute__((export_name("gpu_market_preinit"))) struct gm_preinit_info *gpu_market_preinit(void)
{
  JSRuntime *rt = JS_NewRuntimeZeroingFreed();
  JSContext *ctx = JS_NewCustomContext(rt);
  js_add_near_host_functions(ctx);
  gm_module = js_load_module_binary(ctx, code, code_size);
  JS_StopZeroingFreed(rt);
  gm_ctx = ctx;
  gm_info.memory_pages = __builtin_wasm_memory_size(0);
  gm_info.bytecode = (uint32_t)(uintptr_t)code;
  gm_info.bytecode_size = code_size;
  gm_info.stack_low = (uint32_t)(uintptr_t)__stack_low;
  gm_info.stack_high = (uint32_t)(uintptr_t)__stack_high;
  return &gm_info;
}

static void gm_panic(const char *message)
{
  panic_utf8(strlen(message), (uint64_t)(uintptr_t)message);
}

/* One call of an exported method, as near-sdk-js's DEFINE_NEAR_METHOD does it after loading:
   a thrown exception aborts the call with "<message>\n<stack>". */
static void gm_call(const char *name)
{
  JSContext *ctx = gm_ctx;
  JSValue fun_obj, result, error, error_message, error_stack;
  const char *error_message_c, *error_stack_c;
  char *error_c;
  size_t msg_len, stack_len;

  if (!ctx)
    gm_panic("contract engine is not pre-initialised (build it with the gpu-market toolchain)");
  if (__builtin_wasm_memory_size(0) < gm_info.memory_pages)
    gm_panic("contract memory is smaller than the pre-initialised engine expects");
  fun_obj = JS_GetProperty(ctx, gm_module, JS_NewAtom(ctx, name));
  result = JS_Call(ctx, fun_obj, gm_module, 0, NULL);
  if (JS_IsException(result)) {
    error = JS_GetException(ctx);
    error_message = JS_GetPropertyStr(ctx, error, "message");
    error_stack = JS_GetPropertyStr(ctx, error, "stack");
    error_message_c = JS_ToCStringLen(ctx, &msg_len, error_message);
    error_stack_c = JS_ToCStringLen(ctx, &stack_len, error_stack);
    error_c = malloc(msg_len + 1 + stack_len);
    memcpy(error_c, error_message_c, msg_len);
    error_c[msg_len] = '\n';
    memcpy(error_c + msg_len + 1, error_stack_c, stack_len);
    panic_utf8(msg_len + 1 + stack_len, (uint64_t)(uintptr_t)error_c);
  }
  js_std_loop(ctx);
}

#undef DEFINE_NEAR_METHOD
#define DEFINE_NEAR_METHOD(name)                                                             \
  __attribute__((export_name(#name))) void name(void) { gm_call(#name); }
