/* Module loading and the job loop for contracts; see quickjs-libc-min.h. */
#include <string.h>
#include "quickjs-libc-min.h"

extern void panic_utf8(uint64_t len, uint64_t ptr);

/* Aborts the call with "<prefix>: <exception message>" as the NEAR panic message. */
static void panic_with_exception(JSContext *ctx, const char *prefix)
{
  JSValue error = JS_GetException(ctx);
  const char *message = JS_ToCString(ctx, error);
  size_t prefix_len = strlen(prefix);
  size_t message_len = message ? strlen(message) : 0;
  char *text = malloc(prefix_len + 2 + message_len);
  memcpy(text, prefix, prefix_len);
  memcpy(text + prefix_len, ": ", 2);
  if (message)
    memcpy(text + prefix_len + 2, message, message_len);
  panic_utf8(prefix_len + 2 + message_len, (uint64_t)(uintptr_t)text);
}

JSValue js_load_module_binary(JSContext *ctx, const uint8_t *buf, size_t buf_len)
{
  JSValue obj, result;
  JSModuleDef *module;

  obj = JS_ReadObject(ctx, buf, buf_len, JS_READ_OBJ_BYTECODE);
  if (JS_IsException(obj))
    panic_with_exception(ctx, "cannot read contract bytecode");
  if (JS_VALUE_GET_TAG(obj) != JS_TAG_MODULE) {
    JS_ThrowTypeError(ctx, "bytecode is not a module");
    panic_with_exception(ctx, "cannot read contract bytecode");
  }
  module = JS_VALUE_GET_PTR(obj);
  if (JS_ResolveModule(ctx, obj) < 0)
    panic_with_exception(ctx, "cannot link contract module");
  result = JS_EvalFunction(ctx, obj);
  if (JS_IsException(result))
    panic_with_exception(ctx, "contract module threw");
  JS_FreeValue(ctx, result);
  return js_get_module_ns(ctx, module);
}

void js_std_loop(JSContext *ctx)
{
  JSContext *job_ctx;
  int status;

  for (;;) {
    status = JS_ExecutePendingJob(JS_GetRuntime(ctx), &job_ctx);
    if (status == 0)
      return;
    if (status < 0)
      panic_with_exception(job_ctx, "pending job threw");
  }
}
