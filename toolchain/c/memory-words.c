/*
 * memcpy, memmove and memset eight bytes at a time, replacing wasi-libc's.
 *
 * NEAR charges every wasm instruction the same, whatever it moves. The prebuilt wasi-libc
 * copies with memory.copy/memory.fill, which NEAR's MVP rules forbid; wasm-opt lowers them
 * to loops of ~19 instructions a byte. These take ~1 instruction a byte. Unaligned i64
 * loads and stores are valid wasm and cost what aligned ones do, so there is no alignment
 * head. optimise.ts also points wasm-opt's lowered memory.copy/memory.fill (still used
 * inside libc, e.g. by realloc) at gpu_market_copy / gpu_market_fill.
 *
 * no_builtin: otherwise clang recognises the byte loops as memcpy/memset and calls
 * itself.
 */
#include <stddef.h>
#include <stdint.h>

typedef uint64_t __attribute__((__may_alias__, __aligned__(1))) word_t;
typedef uint32_t __attribute__((__may_alias__, __aligned__(1))) half_t;

/* Forward copy; also right for overlapping regions when d < s (each word is read before
   any store can reach it). */
__attribute__((no_builtin)) static void copy_forward(unsigned char *d, const unsigned char *s,
                                                     size_t n)
{
  for (; n >= 32; n -= 32, d += 32, s += 32) {
    word_t a = ((const word_t *)s)[0], b = ((const word_t *)s)[1];
    word_t c = ((const word_t *)s)[2], e = ((const word_t *)s)[3];
    ((word_t *)d)[0] = a;
    ((word_t *)d)[1] = b;
    ((word_t *)d)[2] = c;
    ((word_t *)d)[3] = e;
  }
  if (n >= 16) {
    word_t a = ((const word_t *)s)[0], b = ((const word_t *)s)[1];
    ((word_t *)d)[0] = a;
    ((word_t *)d)[1] = b;
    n -= 16, d += 16, s += 16;
  }
  if (n >= 8) {
    *(word_t *)d = *(const word_t *)s;
    n -= 8, d += 8, s += 8;
  }
  if (n >= 4) {
    *(half_t *)d = *(const half_t *)s;
    n -= 4, d += 4, s += 4;
  }
  for (; n > 0; n--)
    *d++ = *s++;
}

/* Backward copy, for overlapping regions when d > s. */
__attribute__((no_builtin)) static void copy_backward(unsigned char *d, const unsigned char *s,
                                                      size_t n)
{
  d += n, s += n;
  for (; n >= 32; n -= 32) {
    d -= 32, s -= 32;
    word_t a = ((const word_t *)s)[3], b = ((const word_t *)s)[2];
    word_t c = ((const word_t *)s)[1], e = ((const word_t *)s)[0];
    ((word_t *)d)[3] = a;
    ((word_t *)d)[2] = b;
    ((word_t *)d)[1] = c;
    ((word_t *)d)[0] = e;
  }
  for (; n >= 8; n -= 8) {
    d -= 8, s -= 8;
    *(word_t *)d = *(const word_t *)s;
  }
  if (n >= 4) {
    d -= 4, s -= 4, n -= 4;
    *(half_t *)d = *(const half_t *)s;
  }
  for (; n > 0; n--)
    *--d = *--s;
}

/* memmove's semantics; the target of the lowered memory.copy. */
__attribute__((no_builtin, used, export_name("gpu_market_copy"))) void
gpu_market_copy(void *dest, const void *src, size_t n)
{
  unsigned char *d = dest;
  const unsigned char *s = src;
  if (d == s || n == 0)
    return;
  if (d < s || d >= s + n)
    copy_forward(d, s, n);
  else
    copy_backward(d, s, n);
}

/* The target of the lowered memory.fill. */
__attribute__((no_builtin, used, export_name("gpu_market_fill"))) void
gpu_market_fill(void *dest, int value, size_t n)
{
  unsigned char *d = dest;
  uint64_t word = (uint64_t)(unsigned char)value * 0x0101010101010101ull;
  for (; n >= 32; n -= 32, d += 32) {
    ((word_t *)d)[0] = word;
    ((word_t *)d)[1] = word;
    ((word_t *)d)[2] = word;
    ((word_t *)d)[3] = word;
  }
  if (n >= 16) {
    ((word_t *)d)[0] = word;
    ((word_t *)d)[1] = word;
    n -= 16, d += 16;
  }
  if (n >= 8) {
    *(word_t *)d = word;
    n -= 8, d += 8;
  }
  if (n >= 4) {
    *(half_t *)d = (uint32_t)word;
    n -= 4, d += 4;
  }
  for (; n > 0; n--)
    *d++ = (unsigned char)value;
}

__attribute__((no_builtin)) void *memcpy(void *restrict dest, const void *restrict src, size_t n)
{
  copy_forward(dest, src, n);
  return dest;
}

__attribute__((no_builtin)) void *memmove(void *dest, const void *src, size_t n)
{
  gpu_market_copy(dest, src, n);
  return dest;
}

__attribute__((no_builtin)) void *memset(void *dest, int value, size_t n)
{
  gpu_market_fill(dest, value, n);
  return dest;
}
