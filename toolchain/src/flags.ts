// Compiler and linker flags: one place, because they are part of the engine cache key.

/**
 * -DEMSCRIPTEN selects QuickJS's own branches where wasi has no malloc_usable_size, and
 * also leaves out Atomics (CONFIG_ATOMICS) and the native stack check. qjsc and the
 * engine are compiled with exactly these flags, so they agree on the predefined atoms
 * that the bytecode refers to by number.
 */
export const COMPILE_FLAGS: readonly string[] = [
  "--target=wasm32-wasip1",
  "-mcpu=mvp",
  "-Oz",
  "-flto",
  "-D_GNU_SOURCE",
  '-DCONFIG_VERSION="2021-03-27"',
  "-DCONFIG_BIGNUM",
  "-DEMSCRIPTEN",
];

/** Contracts: no entry point, NEAR host functions become `env` imports, 256 KiB stack. */
export const CONTRACT_LINK_FLAGS: readonly string[] = [
  "-nostartfiles",
  "-Wl,--no-entry",
  "-Wl,--allow-undefined",
  "-Wl,-z,stack-size=262144",
];

/** qjsc: a reactor driven from Node; parsing deep code wants a larger stack. */
export const QJSC_LINK_FLAGS: readonly string[] = [
  "-nostartfiles",
  "-Wl,--no-entry",
  "-Wl,-z,stack-size=1048576",
];

/** wasm-opt: lower what the prebuilt wasi-libc uses beyond the MVP (first run). */
export const LOWERING_FLAGS: readonly string[] = [
  "--enable-bulk-memory",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-nontrapping-float-to-int",
  "--llvm-memory-copy-fill-lowering",
  "--signext-lowering",
  "--llvm-nontrapping-fptoint-lowering",
];

/** wasm-opt: optimise for size with MVP features only, so nothing is raised again (second run). */
export const OPTIMISE_FLAGS: readonly string[] = [
  "--mvp-features",
  "-Oz",
  "--strip-debug",
  "--strip-producers",
  "--strip-target-features",
];
