// Prints VM figures: preparation time, calls per second and the gas profile of probe.get.
// Run: npm run bench:vm -w localnet
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { prepareContract } from "../../src/vm/prepare.ts";
import { createRunner } from "../../src/vm/runner.ts";
import { context, MemoryExternal, wat } from "./helpers.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function bench(
  label: string,
  code: Uint8Array,
  method: string,
  input: unknown,
  ext: MemoryExternal,
  seconds = 3,
) {
  const runner = createRunner(runtimeConfig);
  const codeHash = createHash("sha256").update(code).digest();
  const ctx = context({ input: enc(input), view: { maxGasBurnt: 300_000_000_000_000n } });
  let out = runner({ code, codeHash, methodName: method, context: ctx, ext });
  if (out.aborted !== null) throw new Error(`${label}: ${out.aborted.debug}`);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    out = runner({ code, codeHash, methodName: method, context: ctx, ext });
    n++;
  }
  const ms = (performance.now() - start) / n;
  console.log(
    `${label}: ${(1000 / ms).toFixed(1)} calls/s (${ms.toFixed(2)} ms/call), ${out.burntGas} gas`,
  );
  return out;
}

const tiny = wat(`(module (import "env" "value_return" (func $r (param i64 i64))) (memory 1)
  (func (export "f") (call $r (i64.const 4) (i64.const 0))))`);
bench("minimal wat method", tiny, "f", {}, new MemoryExternal());

const probePath = fileURLToPath(new URL("../../../build/contracts/probe.wasm", import.meta.url));
if (existsSync(probePath)) {
  const probe = new Uint8Array(readFileSync(probePath));
  const t0 = performance.now();
  prepareContract(probe, runtimeConfig);
  console.log(
    `prepare probe.wasm (${probe.length} bytes): ${(performance.now() - t0).toFixed(0)} ms`,
  );
  const ext = new MemoryExternal();
  ext.storageSet(new TextEncoder().encode("kv:a"), new TextEncoder().encode("hello"));
  const out = bench("probe.get (near-sdk-js)", probe, "get", { key: "a" }, ext);
  console.log("probe.get gas profile:");
  for (const e of out.profile)
    console.log(`  ${e.costCategory.padEnd(15)} ${e.cost.padEnd(28)} ${e.gasUsed}`);
  bench(
    "probe.add_u128 (near-sdk-js)",
    probe,
    "add_u128",
    { a: "1", b: "2" },
    new MemoryExternal(),
  );
} else {
  console.log("build/contracts/probe.wasm not built: skipping near-sdk-js figures");
}
