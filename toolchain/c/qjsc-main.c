/* The bytecode compiler, built from the same patched QuickJS as the contract engine so
   that both agree on the bytecode format (predefined atoms, enabled features). Built as
   a WebAssembly reactor that the toolchain drives from Node (toolchain/src/qjsc.ts):
   one instance per compilation, nothing freed. */
#include <stdlib.h>
#include <string.h>
#include "quickjs.h"

static uint8_t *output;
static size_t output_len;

__attribute__((export_name("qjsc_alloc"))) void *qjsc_alloc(size_t size)
{
  return malloc(size);
}

__attribute__((export_name("qjsc_output"))) uint8_t *qjsc_output(void)
{
  return output;
}

__attribute__((export_name("qjsc_output_len"))) size_t qjsc_output_len(void)
{
  return output_len;
}

/* Sets the output to "<message>\n<stack>" of the pending exception. */
static void set_error_output(JSContext *ctx)
{
  JSValue error = JS_GetException(ctx);
  JSValue stack = JS_GetPropertyStr(ctx, error, "stack");
  const char *message = JS_ToCString(ctx, error);
  const char *trace = JS_IsUndefined(stack) ? "" : JS_ToCString(ctx, stack);
  size_t message_len = message ? strlen(message) : 0;
  size_t trace_len = trace ? strlen(trace) : 0;

  output = malloc(message_len + 1 + trace_len);
  memcpy(output, message, message_len);
  output[message_len] = '\n';
  memcpy(output + message_len + 1, trace, trace_len);
  output_len = message_len + 1 + trace_len;
}

/* Compiles an ES module (source must be NUL-terminated at source[source_len]).
   Returns 0 with the bytecode as output, or 1 with the error text as output. */
__attribute__((export_name("qjsc_compile")))
int qjsc_compile(const char *source, size_t source_len, const char *filename)
{
  JSRuntime *rt = JS_NewRuntime();
  JSContext *ctx = JS_NewContext(rt);
  JSValue module;

  module = JS_Eval(ctx, source, source_len, filename,
                   JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
  if (JS_IsException(module)) {
    set_error_output(ctx);
    return 1;
  }
  output = JS_WriteObject(ctx, &output_len, module, JS_WRITE_OBJ_BYTECODE);
  if (!output) {
    set_error_output(ctx);
    return 1;
  }
  return 0;
}
