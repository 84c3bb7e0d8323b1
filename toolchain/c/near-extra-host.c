/* Host functions that near-sdk-js's builder.c does not expose. The patch step includes
   this file inside builder.c (it uses builder.c's static JS_Uint8Array_to_C) and calls
   js_add_extra_near_host_functions(ctx, env) before `env` is published. */

extern uint64_t ed25519_verify(uint64_t sig_len, uint64_t sig_ptr, uint64_t msg_len,
                               uint64_t msg_ptr, uint64_t pub_len, uint64_t pub_ptr);

/* env.ed25519_verify(signature, message, publicKey): Uint8Arrays -> boolean. The host
   aborts the call when signature is not 64 bytes or publicKey not 32 bytes. */
static JSValue near_ed25519_verify(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
  uint8_t *sig_ptr, *msg_ptr, *pub_ptr;
  size_t sig_len, msg_len, pub_len;

  sig_ptr = JS_Uint8Array_to_C(ctx, argv[0], &sig_len);
  if (sig_ptr == NULL)
    return JS_ThrowTypeError(ctx, "Expect Uint8Array for signature");
  msg_ptr = JS_Uint8Array_to_C(ctx, argv[1], &msg_len);
  if (msg_ptr == NULL)
    return JS_ThrowTypeError(ctx, "Expect Uint8Array for message");
  pub_ptr = JS_Uint8Array_to_C(ctx, argv[2], &pub_len);
  if (pub_ptr == NULL)
    return JS_ThrowTypeError(ctx, "Expect Uint8Array for public key");
  return JS_NewBool(ctx, ed25519_verify(sig_len, (uint64_t)sig_ptr, msg_len, (uint64_t)msg_ptr,
                                        pub_len, (uint64_t)pub_ptr) == 1);
}

static void js_add_extra_near_host_functions(JSContext *ctx, JSValue env)
{
  JS_SetPropertyStr(ctx, env, "ed25519_verify", JS_NewCFunction(ctx, near_ed25519_verify, "ed25519_verify", 3));
}
