// Compiler and linker flags: one place, because they are part of the engine cache key.

/**
 * -DEMSCRIPTEN selects QuickJS's own branches where wasi has no malloc_usable_size, and
 * also leaves out Atomics (CONFIG_ATOMICS) and the native stack check. qjsc and the
 * engine are compiled with exactly these flags, so they agree on the predefined atoms
 * that the bytecode refers to by number.
 *
 * No -flto: with LTO every contract link re-ran code generation for the whole engine
 * (~10 s instead of ~2 s), and after wasm-opt the non-LTO probe was even slightly smaller
 * (522,761 vs 524,368 bytes).
 */
export const COMPILE_FLAGS: readonly string[] = [
  "--target=wasm32-wasip1",
  "-mcpu=mvp",
  "-Oz",
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

/**
 * wasm-opt, one run: lower what the prebuilt wasi-libc uses beyond the MVP, optimise for
 * size, then lower again in case optimisation (which runs with those features enabled)
 * reintroduced any; strip sections that do not run.
 */
const LOWERING_PASSES = [
  "--llvm-memory-copy-fill-lowering",
  "--signext-lowering",
  "--llvm-nontrapping-fptoint-lowering",
];

export const WASM_OPT_FLAGS: readonly string[] = [
  "--enable-bulk-memory",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-nontrapping-float-to-int",
  ...LOWERING_PASSES,
  "-Oz",
  ...LOWERING_PASSES,
  "--strip-debug",
  "--strip-producers",
  "--strip-target-features",
];
