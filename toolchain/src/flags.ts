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

/** NEAR's initial_memory_pages and max_memory_pages (protocol 77; nearcore's limit_config). */
export const NEAR_INITIAL_MEMORY_PAGES = 1024;
export const NEAR_MAX_MEMORY_PAGES = 2048;
const WASM_PAGE = 65536;

/**
 * Contracts: no entry point, NEAR host functions become `env` imports, 256 KiB stack. The
 * memory is declared as NEAR provides it (NEAR replaces the declaration with its own memory
 * of initial_memory_pages): wasi-libc's malloc takes the declared initial memory after the
 * data as its heap, so it uses those 64 MiB instead of growing the memory at once, and the
 * pre-initialised heap (preinit.ts) lies where a call will find it.
 */
export const CONTRACT_LINK_FLAGS: readonly string[] = [
  "-nostartfiles",
  "-Wl,--no-entry",
  "-Wl,--allow-undefined",
  "-Wl,-z,stack-size=262144",
  `-Wl,--initial-memory=${NEAR_INITIAL_MEMORY_PAGES * WASM_PAGE}`,
  `-Wl,--max-memory=${NEAR_MAX_MEMORY_PAGES * WASM_PAGE}`,
];

/** qjsc: a reactor driven from Node; parsing deep code wants a larger stack. */
export const QJSC_LINK_FLAGS: readonly string[] = [
  "-nostartfiles",
  "-Wl,--no-entry",
  "-Wl,-z,stack-size=1048576",
];

/**
 * wasm-opt, in two runs around redirectBulkMemory (bulk-memory.ts). First: lower what the
 * prebuilt wasi-libc uses beyond the MVP (bulk memory, sign extension, non-trapping
 * float-to-int), keeping names (-g) so that the lowering's helper functions can be
 * recognised. (nearcore also accepts sign extension; keeping it saved 0.05% of the probe.)
 */
export const WASM_LOWER_FLAGS: readonly string[] = [
  "--enable-bulk-memory",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-nontrapping-float-to-int",
  "--llvm-memory-copy-fill-lowering",
  "--signext-lowering",
  "--llvm-nontrapping-fptoint-lowering",
  "-g",
];

/** Then optimise for size with MVP features only, and strip sections that do not run. */
export const WASM_OPT_FLAGS: readonly string[] = [
  "--mvp-features",
  "-Oz",
  "--strip-debug",
  "--strip-producers",
  "--strip-target-features",
];

/** After pre-initialisation: drop the functions only loading used (nothing else changes). */
export const WASM_PREINIT_FLAGS: readonly string[] = [
  "--mvp-features",
  "--remove-unused-module-elements",
  "--strip-debug",
  "--strip-producers",
  "--strip-target-features",
];
